/**
 * ObjectProbe over Google Cloud Storage for registries on distribution's `gcs` driver: an
 * object's metadata (https://cloud.google.com/storage/docs/json_api/v1/objects/get) for existence
 * and age, and a ranged download for links. The client does not retry (a retry would land after
 * the lookup deadline). It takes no AbortSignal, so a request the lookup stops waiting for runs on
 * in the background until the client's own timeout (ten times `requestTimeoutMs`); the probe still
 * answers at the caller's abort or at `requestTimeoutMs`.
 *
 * Minimum role: "Storage Object Viewer" (roles/storage.objectViewer) on the bucket: objects.get for
 * lookups, objects.list for the start-up check that tells a missing bucket from missing content.
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import type { GcsStorage } from '../config/types';
import { boundedRequest, listFolders, UNAVAILABLE_CODES } from './bounded-request';
import { objectKey } from './keys';
import {
  MAX_LINK_BYTES,
  probeError,
  type ListOptions,
  type ListResult,
  type ObjectProbe,
  type ProbeMiss,
  type ProbeResult,
  type ReadOptions,
  type ReadResult,
} from './probe';

/** The client's own timeout, as a multiple of requestTimeoutMs (a backstop, as over S3). */
const SDK_TIMEOUT_FACTOR = 10;

export function buildBucket(storage: GcsStorage): Bucket {
  const client = new Storage({
    ...(storage.endpoint ? { apiEndpoint: storage.endpoint } : {}),
    ...(storage.keyfile ? { keyFilename: storage.keyfile } : {}),
    retryOptions: { autoRetry: false, maxRetries: 0 },
    timeout: storage.requestTimeoutMs * SDK_TIMEOUT_FACTOR,
  });
  return client.bucket(storage.bucket);
}

interface ApiErrorLike {
  readonly name?: string;
  readonly code?: number | string;
  readonly message?: string;
}

/**
 * GCS failures as probe outcomes (https://cloud.google.com/storage/docs/json_api/v1/status-codes).
 * Messages are kept short: the client's can quote URLs and, for a bad key file, its path.
 */
export function classifyGcsError(err: unknown): ProbeMiss {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ApiErrorLike;
  const status = typeof e.code === 'number' ? e.code : undefined;
  if (status === 404) return { status: 'not_found' };
  if (status === 401 || status === 403) return probeError('denied', `HTTP ${status}`);
  if (status === 429 || status === 503) return probeError('throttled', `HTTP ${status}`);
  if (status !== undefined && status >= 500) return probeError('unavailable', `HTTP ${status}`);
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return probeError('unavailable', e.code);
  if (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError')
    return probeError('timeout', String(e.code ?? e.name));
  // No credentials found (no key file, no metadata server): a configuration fault, as denied.
  if (/Could not load the default credentials/.test(e.message ?? ''))
    return probeError('denied', 'no credentials');
  return probeError('internal', e.name ?? 'error');
}

export class GcsProbe implements ObjectProbe {
  private readonly bucket: Bucket;

  constructor(
    readonly region: string,
    private readonly storage: GcsStorage,
    bucket?: Bucket,
  ) {
    this.bucket = bucket ?? buildBucket(storage);
  }

  head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult> {
    return this.bounded(opts.signal, async () => {
      const [meta] = await this.bucket.file(this.objectName(key)).getMetadata();
      return { status: 'found', lastModified: lastModified(meta) };
    });
  }

  read(key: string, opts: ReadOptions): Promise<ReadResult> {
    const maxBytes = opts.maxBytes ?? MAX_LINK_BYTES;
    return this.bounded(opts.signal, async (): Promise<ReadResult> => {
      const file = this.bucket.file(this.objectName(key));
      // A ranged read cannot be checked against the whole object's hash. The date comes from a
      // second (parallel) request: the download's Last-Modified has whole seconds, and read() must
      // date an object as head() does, to the millisecond (probe-contract.ts).
      const [[contents], [meta]] = await Promise.all([
        file.download({ start: 0, end: maxBytes - 1, validation: false }),
        file.getMetadata(),
      ]);
      return {
        status: 'found',
        text: contents.subarray(0, maxBytes).toString('utf8'),
        lastModified: lastModified(meta),
      };
    });
  }

  /**
   * objects.list with a `/` delimiter (https://cloud.google.com/storage/docs/json_api/v1/objects/list):
   * the response's `prefixes` are the folders, from `startOffset` on; each page bounded by
   * `requestTimeoutMs`. objects.list is in "Storage Object Viewer".
   */
  list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const full = this.objectName(prefix);
    return listFolders(full, opts, (pageToken, limit) =>
      this.bounded(opts.signal, async () => {
        const [, next, response] = await this.bucket.getFiles({
          prefix: full,
          delimiter: '/',
          autoPaginate: false,
          maxResults: limit,
          ...(pageToken ? { pageToken } : {}),
          // Inclusive, where StartAfter is not: no object is named exactly this (it ends in a
          // tag's name or in `/~`), so both mean the same here.
          ...(opts.startAfter !== undefined ? { startOffset: full + opts.startAfter } : {}),
        });
        return {
          prefixes: (response as { prefixes?: string[] } | undefined)?.prefixes ?? [],
          next: (next as { pageToken?: string } | null | undefined)?.pageToken,
        };
      }),
    );
  }

  private objectName(key: string): string {
    return objectKey(this.storage.rootdirectory, key);
  }

  private bounded<R extends object>(
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<R>,
  ): Promise<R | ProbeMiss> {
    return boundedRequest(this.storage.requestTimeoutMs, signal, send, classifyGcsError);
  }

  /** Lists one object: 404 is a missing bucket, 403 missing permissions or credentials. */
  async check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    const result = await boundedRequest(
      this.storage.requestTimeoutMs * SDK_TIMEOUT_FACTOR,
      opts.signal,
      async (): Promise<ProbeResult> => {
        await this.bucket.getFiles({ maxResults: 1, autoPaginate: false, prefix: this.objectName('') });
        return { status: 'found', lastModified: new Date(0) };
      },
      classifyGcsError,
    );
    if (result.status === 'not_found') return `bucket "${this.storage.bucket}" does not exist`;
    if (result.status === 'error' && result.kind === 'denied') {
      return `access to bucket "${this.storage.bucket}" is denied (${result.message}): geosync needs the "Storage Object Viewer" role (roles/storage.objectViewer) on the bucket`;
    }
    return undefined;
  }

  async close(): Promise<void> {}
}

function lastModified(meta: { updated?: string; timeCreated?: string }): Date {
  const text = meta.updated ?? meta.timeCreated;
  return text ? new Date(text) : new Date(0);
}
