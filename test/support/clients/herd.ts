/**
 * Many ext_proc streams at once over one connection, as a busy Envoy sends them: every stream
 * sends its request headers, then (once all have their reply) every stream sends a 404 response,
 * and the replies are counted. What the server answered is the result; how long it took is not
 * asserted anywhere (a loaded machine decides that).
 */
import {
  ExtProcTestClient,
  requestHeadersMessage,
  responseHeadersMessage,
  setHeaders,
} from './extproc-client';

export interface HerdResult {
  /** Streams answered with a 307 to a sibling. */
  readonly redirected: number;
  /** Streams answered with a plain CONTINUE (the 404 passes). */
  readonly passed: number;
  /** Streams without a reply within the client's own deadline (Envoy would fail open). */
  readonly unanswered: number;
}

/** A generous bound per reply: long enough for a loaded machine, short enough to end a hung test. */
const REPLY_TIMEOUT_MS = 20_000;

export async function herd(
  address: string,
  paths: readonly string[],
  opts: { ownConnection?: boolean } = {},
): Promise<HerdResult> {
  const client = new ExtProcTestClient(address, opts);
  try {
    const streams = paths.map(() => client.open());
    await Promise.all(
      streams.map((s, i) =>
        s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': paths[i]! }), REPLY_TIMEOUT_MS),
      ),
    );
    const replies = await Promise.all(
      streams.map((s) =>
        s.exchange(responseHeadersMessage(404), REPLY_TIMEOUT_MS).then(
          (r) => (setHeaders(r)[':status'] === '307' ? 'redirected' : 'passed'),
          () => 'unanswered' as const,
        ),
      ),
    );
    for (const s of streams) s.close();
    const count = (what: string) => replies.filter((r) => r === what).length;
    return { redirected: count('redirected'), passed: count('passed'), unanswered: count('unanswered') };
  } finally {
    client.close();
  }
}
