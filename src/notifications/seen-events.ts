/**
 * Event ids already handled. A registry re-sends an envelope whose delivery it thinks failed (a
 * timeout after geosync handled it, a lost answer), with the same event ids, so each id counts
 * once. Bounded: the oldest ids go first, and an id is forgotten after `ttlMs` (re-deliveries come
 * within the registry's backoff, seconds to minutes).
 */
import type { Clock } from '../clock/clock';
import { TtlLruCache } from '../util/ttl-lru-cache';

export const SEEN_EVENTS_DEFAULTS = { maxEntries: 50_000, ttlMs: 3_600_000 } as const;

export class SeenEvents {
  private readonly ids: TtlLruCache<true>;

  constructor(
    clock: Clock,
    private readonly opts: { readonly maxEntries: number; readonly ttlMs: number } = SEEN_EVENTS_DEFAULTS,
  ) {
    // Ids are short (UUIDs): the entry bound is the one that matters.
    this.ids = TtlLruCache.byCount<true>(opts.maxEntries, clock);
  }

  /** True the first time `id` is seen (within the TTL), false for a re-delivery. */
  firstTime(id: string): boolean {
    if (this.ids.get(id)) return false;
    this.ids.set(id, true, this.opts.ttlMs);
    return true;
  }

  get size(): number {
    return this.ids.size;
  }
}
