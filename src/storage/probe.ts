/**
 * The object-storage probe contract: "does this key exist, and since when?". One contract,
 * implemented by S3Probe and FsProbe and tested by one shared suite
 * (test/integration/storage/probe-contract.ts). Expected outcomes are values, never exceptions.
 */

export type ProbeErrorKind = 'timeout' | 'throttled' | 'denied' | 'unavailable' | 'aborted' | 'internal';

export type ProbeResult =
  | { readonly status: 'found'; readonly lastModified: Date }
  | { readonly status: 'not_found' }
  | { readonly status: 'error'; readonly kind: ProbeErrorKind; readonly message: string };

export interface ObjectProbe {
  /** Region this probe looks into (for logs and metrics). */
  readonly region: string;
  /**
   * `key` is relative to distribution's storage root (`docker/registry/v2`), e.g.
   * `repositories/library/alpine/_layers/sha256/<hex>/link`. Resolves (never rejects) once the answer
   * is known, or promptly with `error/aborted` after `signal` aborts.
   */
  head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult>;
  /**
   * A start-up check of the storage itself (the bucket or root exists and is readable). A wrong
   * bucket name otherwise looks exactly like content that is not there yet. Resolves to a problem
   * description, or undefined when the storage looks right or cannot be checked now.
   */
  check?(opts: { signal: AbortSignal }): Promise<string | undefined>;
  close(): Promise<void>;
}

export function probeError(kind: ProbeErrorKind, message: string): ProbeResult {
  return { status: 'error', kind, message };
}
