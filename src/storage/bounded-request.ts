/**
 * One request to a cloud store, bounded: stopped at the caller's abort or at the probe's own
 * timeout, which, like the lookup's deadline, first lets an answer that has arrived be read
 * (src/abort/bounded.ts). Resolves with a value whatever happens underneath: the SDK's error
 * becomes a probe outcome through `classify`, at the edge, so nothing above storage/ knows its
 * shapes. Shared by the S3, Azure Blob and GCS probes.
 */
import { bounded } from '../abort/bounded';
import { systemClock } from '../clock/clock';
import {
  byCodeUnit,
  probeError,
  type ListResult,
  type ProbeMiss,
  type ProbeResult,
  type ReadResult,
} from './probe';

/** Connection failures: the store cannot be reached now (Node's and undici's codes). */
export const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

export function boundedRequest<R extends ProbeResult | ReadResult | ListResult>(
  timeoutMs: number,
  signal: AbortSignal,
  send: (signal: AbortSignal) => Promise<R>,
  classify: (err: unknown) => ProbeMiss,
): Promise<R | ProbeMiss> {
  if (signal.aborted) return Promise.resolve(probeError('aborted', 'aborted before the probe started'));
  return bounded<R | ProbeMiss>(
    systemClock,
    timeoutMs,
    signal,
    (s) => send(s).catch(classify),
    (timedOut) =>
      timedOut
        ? probeError('timeout', `no answer within ${timeoutMs} ms`)
        : probeError('aborted', 'lookup cancelled'),
  );
}

/** A readable stream's first bytes as text (a link or a manifest: small by contract). */
export async function readText(stream: NodeJS.ReadableStream | undefined, maxBytes: number): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(b);
    size += b.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** One page of a listing with a `/` delimiter: its common prefixes (whole names), and the next page's token. */
export interface FolderPage {
  readonly prefixes: readonly (string | undefined)[];
  readonly next?: string | undefined;
}

/** Names per page asked for (each store's own maximum is 1,000, or 5,000 for Azure). */
const PAGE_SIZE = 1000;

/**
 * The folder names directly below `full` (an object-name prefix ending in `/`), asking
 * `page(token, limit)` page after page until `max` names or the last page: what the S3, Azure
 * Blob and GCS listings share (ObjectProbe.list).
 */
export async function listFolders(
  full: string,
  max: number,
  page: (token: string | undefined, limit: number) => Promise<FolderPage>,
): Promise<ListResult> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const out = await page(token, Math.min(PAGE_SIZE, max - names.length));
    for (const p of out.prefixes) {
      const name = p?.slice(full.length).replace(/\/$/, '');
      if (name) names.push(name);
    }
    token = out.next || undefined;
  } while (token && names.length < max);
  return { status: 'found', names: names.sort(byCodeUnit).slice(0, max) };
}
