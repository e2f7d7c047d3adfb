/**
 * `freshness:`: the bounded-staleness check of tags the local registry serves (a tag re-pointed in
 * a sibling is served fresh within `tagMaxStalenessMs`; src/decide/freshness.ts, README
 * "Staleness bound").
 */
import type { Obj, Reader } from './reader';

export interface FreshnessConfig {
  /** 0: off. Otherwise a tag's freshness answer is reused at most this long (the bound T). */
  readonly tagMaxStalenessMs: number;
}

export const FRESHNESS_DEFAULTS: FreshnessConfig = { tagMaxStalenessMs: 0 };

/** One hour: a longer bound is replication's own lag, not a freshness promise. */
export const MAX_TAG_STALENESS_MS = 3_600_000;

export function readFreshness(r: Reader, root: Obj): FreshnessConfig {
  const obj = r.object(root.freshness, 'freshness') ?? {};
  r.noUnknownKeys(obj, 'freshness', Object.keys(FRESHNESS_DEFAULTS));
  return {
    tagMaxStalenessMs: r.integer(obj, 'tagMaxStalenessMs', 'freshness', {
      default: FRESHNESS_DEFAULTS.tagMaxStalenessMs,
      min: 0,
      max: MAX_TAG_STALENESS_MS,
    }) as number,
  };
}
