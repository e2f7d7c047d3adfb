/**
 * The object-storage probe contract: "does this key exist, and since when?". One contract,
 * implemented by the S3, filesystem, Azure Blob and GCS probes and tested by one shared suite
 * (test/integration/storage/probe-contract.ts), and by the registry-API probe
 * (src/registry-api/probe.ts), which answers the same keys over a registry's API. Expected
 * outcomes are values, never exceptions.
 */
import type { Digest } from '../oci/reference';

export type ProbeErrorKind = 'timeout' | 'throttled' | 'denied' | 'unavailable' | 'aborted' | 'internal';

export type ProbeFailure = {
  readonly status: 'error';
  readonly kind: ProbeErrorKind;
  readonly message: string;
};

/** Every answer but "found": what a storage error or an interrupted request turns into. */
export type ProbeMiss = { readonly status: 'not_found' } | ProbeFailure;

/**
 * `lastModified` dates the content: storage always has it; a registry's API (src/registry-api/)
 * only when it sends `Last-Modified`.
 */
export type ProbeResult = { readonly status: 'found'; readonly lastModified?: Date } | ProbeMiss;

/**
 * How much of an object `read` returns at most: a distribution link holds one digest (`sha256:`
 * and 64 hex digits); a larger object is not a link, and what is read of it fails to parse.
 */
export const MAX_LINK_BYTES = 4096;

/** What every request to storage takes. */
export interface ProbeOptions {
  readonly signal: AbortSignal;
  /**
   * Called when the request leaves this process, for a probe that queues requests of its own
   * (ObjectProbe.queuesLocally): the time before it is geosync's, not the storage's.
   */
  readonly onDispatch?: () => void;
  /**
   * The pulling client's `Authorization`, for a registry asked with the client's own credentials
   * (`regions[].registry.credentials: client`); storage never uses it.
   */
  readonly authorization?: string;
}

export interface ReadOptions extends ProbeOptions {
  readonly maxBytes?: number;
}

/** A small object's content (a distribution link: one digest), for `read`. */
export type ReadResult =
  { readonly status: 'found'; readonly text: string; readonly lastModified?: Date } | ProbeMiss;

/**
 * The names directly below a prefix (`list`), in folder order (byFolder); a prefix with nothing
 * below is `found` and empty. `more`: the store holds further names after the last one, which
 * `max` left out (a listing is bounded like any probe; the caller goes on with `startAfter`).
 */
export type ListResult =
  { readonly status: 'found'; readonly names: readonly string[]; readonly more?: true } | ProbeMiss;

export interface ListOptions extends ProbeOptions {
  /** At most this many names, the first in folder order. */
  readonly max: number;
  /**
   * Only names whose folder (`name/`) sorts after this string, as S3's `StartAfter` does with
   * the object keys below the prefix: a tag `t` to start just after it (every name whose tag
   * sorts after `t` also has its folder after `t`), or `last/~` to go on after folder `last`.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html#AmazonS3-ListObjectsV2-request-StartAfter
   */
  readonly startAfter?: string;
}

export interface ObjectProbe {
  /** Region this probe looks into (for logs and metrics). */
  readonly region: string;
  /**
   * Probe a target's keys one after another, stopping at the first that is missing, instead of
   * all at once. For storage where a request costs more than its wait: a filesystem `stat` answers
   * in microseconds but each is a hop through libuv's threadpool, and a miss (the usual answer)
   * needs only the first. Over S3 each key is a network round trip, so they go in parallel.
   */
  readonly keysInTurn?: boolean;
  /**
   * Requests may wait in a queue of this process before they go out (a filesystem root's share of
   * libuv's threadpool, src/storage/fs-calls.ts); such a probe calls `onDispatch` when one leaves.
   * Without it a request is taken to leave at once.
   */
  readonly queuesLocally?: boolean;
  /**
   * Asks a registry's API, not storage (src/registry-api/probe.ts): a repository's key answers for
   * the data behind it too (a registry serves a blob or manifest only when it holds its bytes), so
   * the global store's data keys (`blobs/…/data`) are left out, and a manifest's bytes are read
   * with `readManifest`.
   */
  readonly viaRegistryApi?: boolean;
  /** A manifest's bytes, where the layout's data key names no repository (viaRegistryApi). */
  readManifest?(repository: string, digest: Digest, opts: ReadOptions): Promise<ReadResult>;
  /**
   * `key` is relative to distribution's storage root (`docker/registry/v2`), e.g.
   * `repositories/library/alpine/_layers/sha256/<hex>/link`. Resolves (never rejects) once the answer
   * is known, or promptly with `error/aborted` after `signal` aborts.
   */
  head(key: string, opts: ProbeOptions): Promise<ProbeResult>;
  /**
   * Reads a small object (a distribution link, e.g. a tag's `current/link`, or a manifest), with
   * the same promises as `head`. Reads at most `maxBytes` (default MAX_LINK_BYTES: links are one
   * digest); of a larger object, its first `maxBytes`.
   */
  read(key: string, opts: ReadOptions): Promise<ReadResult>;
  /**
   * The names of the "folders" directly below `prefix` (a layout key ending in `/`, e.g. a
   * repository's `_manifests/tags/`): what distribution itself lists to answer `tags/list`
   * (registry/storage/tagstore.go). Same promises as `head`.
   */
  list(prefix: string, opts: ListOptions): Promise<ListResult>;
  /**
   * A start-up check of the storage itself (the bucket or root exists and is readable). A wrong
   * bucket name otherwise looks exactly like content that is not there yet. Resolves to a problem
   * description, or undefined when the storage looks right or cannot be checked now.
   */
  check?(opts: { signal: AbortSignal }): Promise<string | undefined>;
  close(): Promise<void>;
}

export function probeError(kind: ProbeErrorKind, message: string): ProbeFailure {
  return { status: 'error', kind, message };
}

/** Lexical order by UTF-16 code unit: JavaScript's default sort, and Go's sort.Strings for ASCII names. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order in which stores list folders: by `name/`, the common prefix S3, Azure Blob and GCS
 * return. It differs from the names' own order where a name continues with `-` or `.` (both sort
 * before `/`): `v1-rc/` comes before `v1/`, although `v1` sorts before `v1-rc`.
 */
export function byFolder(a: string, b: string): number {
  return byCodeUnit(`${a}/`, `${b}/`);
}

/** Whether folder `name/` sorts after `startAfter` (ListOptions.startAfter). */
export function folderAfter(name: string, startAfter: string | undefined): boolean {
  return startAfter === undefined || `${name}/` > startAfter;
}
