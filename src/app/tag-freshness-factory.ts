/**
 * Tag freshness for `geosync serve` (any tag checked, tag-freshness/bound.ts): the local region's storage,
 * read for its tag index, beside the siblings' probes the locator already holds.
 */
import type { Clock } from '../clock/clock';
import type { GeosyncConfig } from '../config/types';
import { anyFreshness, freshnessBoundMs } from '../tag-freshness/bound';
import { TagFreshness, type LearntVerdict } from '../tag-freshness/check';
import type { RegionProbe } from '../locate/probe-locator';
import { storageProbeFor } from '../storage/factory';
import type { ObjectProbe } from '../storage/probe';

/**
 * The shared work of one check may run this many times a pull's bound (`lookupTimeoutMaxMs`):
 * its waiters leave at their own deadline (src/extproc/fresher.ts), and a far sibling's answer
 * that comes later is still learnt for the resolutions that follow.
 */
const WORK_TIMEOUT_FACTOR = 2;

export interface FreshnessWiring {
  readonly freshness?: TagFreshness;
  /** Closes the local probe (the siblings' belong to the locator). */
  close(): Promise<void>;
}

export function buildFreshness(
  config: GeosyncConfig,
  deps: {
    clock: Clock;
    siblings: readonly RegionProbe[];
    wrap: (p: ObjectProbe) => ObjectProbe;
    onStorageRound?: () => void;
    /** Each verdict learnt from storage, for the other workers (src/workers/). */
    onLearnt?: (learnt: LearntVerdict) => void;
  },
): FreshnessWiring {
  if (!anyFreshness(config.freshness)) return { close: async () => {} };
  const localRegion = config.regions.find((r) => r.name === config.region);
  if (!localRegion) throw new Error(`region ${config.region} is not in regions[]`);
  // The local tag history is in storage only (config/rules.ts requires it when freshness is on).
  if (!localRegion.storage) throw new Error(`region ${config.region} has no storage for tag freshness`);
  const local = deps.wrap(storageProbeFor(localRegion.name, localRegion.storage));
  const freshness = new TagFreshness({
    local,
    siblings: deps.siblings.map((s) => s.probe),
    clock: deps.clock,
    ttlMsFor: (tag) => freshnessBoundMs(config.freshness, tag),
    workTimeoutMs: config.lookupTimeoutMaxMs * WORK_TIMEOUT_FACTOR,
    ...(deps.onStorageRound ? { onStorageRound: deps.onStorageRound } : {}),
    ...(deps.onLearnt ? { onLearnt: deps.onLearnt } : {}),
  });
  return { freshness, close: () => local.close() };
}
