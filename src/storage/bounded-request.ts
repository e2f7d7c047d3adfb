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
  byFolder,
  folderAfter,
  probeError,
  type ListOptions,
  type ListResult,
  type ProbeMiss,
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

export function boundedRequest<R extends object>(
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
 * `page(token, limit)` page after page until more than `max` names or the last page: what the S3,
 * Azure Blob and GCS listings share (ObjectProbe.list). Each page is one request with its own
 * timeout (the caller bounds it), so a long listing is not cut by the timeout of one request; a
 * page that fails fails the listing. Names before `startAfter` are dropped here too, for a store
 * that cannot start after a key (Azure Blob) and so that every store answers alike.
 */
export async function listFolders(
  full: string,
  opts: Pick<ListOptions, 'max' | 'startAfter'>,
  page: (token: string | undefined, limit: number) => Promise<FolderPage | ProbeMiss>,
): Promise<ListResult> {
  const names: string[] = [];
  let token: string | undefined;
  // One name more than `max` tells whether the listing holds more.
  do {
    const out = await page(token, Math.min(PAGE_SIZE, opts.max + 1 - names.length));
    if ('status' in out) return out;
    for (const p of out.prefixes) {
      const name = p?.slice(full.length).replace(/\/$/, '');
      if (name && folderAfter(name, opts.startAfter)) names.push(name);
    }
    token = out.next || undefined;
  } while (token && names.length <= opts.max);
  const sorted = names.sort(byFolder);
  return sorted.length > opts.max
    ? { status: 'found', names: sorted.slice(0, opts.max), more: true }
    : { status: 'found', names: sorted };
}
