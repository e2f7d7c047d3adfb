/**
 * The Locator answers one question for the decision service: which sibling region's storage
 * holds this pull target? It never names this region, and it resolves (never rejects).
 */
import type { PullTarget } from '../oci/pull';

export type LocateResult =
  | { readonly outcome: 'found'; readonly region: string; readonly lastModified?: Date }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'timeout' }
  /** Not looked up: more lookups were running than finish within the deadline (load shedding). */
  | { readonly outcome: 'shed' }
  | { readonly outcome: 'error'; readonly code: string };

/**
 * What the start-up look at a sibling's storage found: it looks misconfigured (ObjectProbe.check,
 * or it refuses to say whether a key exists), or it could not be reached (no answer before the
 * warm-up's deadline, refused, 5xx): lookups there fail open until it can.
 */
export interface StorageProblem {
  readonly region: string;
  readonly kind: 'misconfigured' | 'unreachable';
  readonly problem: string;
}

/** A manifest one worker found in a sibling's storage, as the others adopt it (src/workers/). */
export interface FoundManifest {
  readonly region: string;
  /** Absent when the holder gives no dates (a registry's API). */
  readonly lastModified?: Date;
  /**
   * A manifest by tag: the tag's link as the finder read it (the digest it names), so that a
   * worker that adopts the answer reads the manifest without reading the link again.
   */
  readonly link?: string;
}

export interface Locator {
  /**
   * Resolves promptly once `signal` aborts (the lookup deadline passed or Envoy cancelled the
   * stream); shared work started for other waiters may go on.
   *
   * `client`: who asks (Envoy's downstream address without its port), so that one client cannot
   * take every place of the lookup window (admission.ts); undefined when unknown.
   * `authorization`: the client's bearer credentials, for regions asked with the client's own
   * (`regions[].registry.credentials: client`); never logged or kept beyond the lookup.
   */
  locate(
    target: PullTarget,
    signal: AbortSignal,
    client?: string,
    authorization?: string,
  ): Promise<LocateResult>;
  /**
   * The answer `locate` would give at once from what is already known (a cache), or undefined.
   * Lets the stream skip the deadline's machinery for the common case of a herd.
   */
  cached?(target: PullTarget, authorization?: string): LocateResult | undefined;
  /**
   * Another worker found this manifest in `found.region`'s storage: remember it as if this
   * locator had, and read its contents there too (manifest-contents.ts), so that the config and
   * layers a client asks this worker for next are answered without a lookup of their own.
   */
  adoptFound?(target: Exclude<PullTarget, { kind: 'blob' }>, found: FoundManifest): void;
  /**
   * Opens the connections lookups will use (and keeps them open), so the first pull after a start
   * or a quiet spell does not spend its deadline on a handshake. Resolves with the problems found,
   * when done or at `signal`.
   */
  warm?(signal: AbortSignal): Promise<readonly StorageProblem[]>;
  /**
   * How long a lookup starting now may wait for `region` once its request is out: up to the hard
   * limit while it answers, its learnt deadline (latency.ts) once a probe went unanswered;
   * undefined for a region lookups do not ask now (breaker open, registry down) or do not know.
   */
  waitMs?(region: string): number | undefined;
  /**
   * Checks each sibling's storage itself (a bucket that does not exist, credentials it refuses):
   * what otherwise looks exactly like content that is not there yet. Resolves with the problems
   * found, when done or at `signal`.
   */
  checkStorage?(signal: AbortSignal): Promise<readonly StorageProblem[]>;
  close(): Promise<void>;
}
