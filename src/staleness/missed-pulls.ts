/**
 * Manifest pulls this region answered 404 (geosync found no sibling in time, or none yet), kept
 * until replication brings that manifest or the window passes. When the arrival's origin says a
 * sibling already held the manifest at the time of such a pull, that pull was one geosync should
 * have rescued: it is counted as missed for that region pair. Pulls of content nobody held yet
 * (a pull before the push) are not misses. Bounded like the other staleness memory.
 */
import type { Clock } from '../clock/clock';
import { TtlLruCache } from '../util/ttl-lru-cache';
import type { WindowBounds } from './sample-window';

/** Pull times kept per key: a retry loop on one missing tag must not grow one entry forever. */
const MAX_PULLS_PER_KEY = 64;

export class MissedPulls {
  private readonly pending: TtlLruCache<number[]>;

  constructor(
    private readonly clock: Clock,
    private readonly bounds: WindowBounds,
  ) {
    this.pending = TtlLruCache.byCount<number[]>(bounds.maxSamples, clock);
  }

  /** A manifest pull of `key` failed here now. */
  failed(key: string): void {
    const times = this.pending.get(key) ?? [];
    if (times.length >= MAX_PULLS_PER_KEY) times.shift();
    times.push(this.clock.now());
    this.pending.set(key, times, this.bounds.windowMs);
  }

  /**
   * The manifest arrived (keys: its digest, and its tag when pushed by tag), present in a sibling
   * since `originAt`: how many pending pulls happened after that (and so were missed). The keys'
   * pending pulls are settled either way.
   */
  arrived(keys: readonly string[], originAt: number): number {
    let missed = 0;
    for (const key of keys) {
      const times = this.pending.get(key);
      if (!times) continue;
      missed += times.filter((t) => t > originAt).length;
      this.pending.delete(key);
    }
    return missed;
  }
}
