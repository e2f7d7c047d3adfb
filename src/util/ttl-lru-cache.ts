/**
 * A bounded cache: least recently used entries go first once either the entry count or the
 * estimated byte size is over its bound, and every entry has its own time to live (the locator
 * picks it for lookup answers: long for digests, short for tags, seconds for misses; the tag
 * check, the notifications and the staleness figures keep their own). Time comes from the
 * injected Clock; expiry is checked on read, so no timer runs per entry.
 */
import type { Clock } from '../clock/clock';

/** Why an entry left the cache (counted by geosync_lookup_cache_evictions_total). */
export type CacheEvictionReason = 'expired' | 'entries' | 'bytes';

export interface CacheBounds {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Map and string overhead per entry, so that many tiny entries still count against maxBytes. */
const ENTRY_OVERHEAD_BYTES = 96;

export class TtlLruCache<V> {
  /** Insertion order is recency order: a hit re-inserts its entry at the end. */
  private readonly entries = new Map<string, Entry<V>>();
  private bytes = 0;

  constructor(
    private readonly bounds: CacheBounds,
    private readonly clock: Clock,
    private readonly sizeOf: (value: V) => number,
    private readonly onEvict: (reason: CacheEvictionReason) => void = () => {},
  ) {}

  /** A cache bounded by its number of entries alone (values too small to weigh). */
  static byCount<V>(maxEntries: number, clock: Clock): TtlLruCache<V> {
    return new TtlLruCache<V>({ maxEntries, maxBytes: Number.MAX_SAFE_INTEGER }, clock, () => 0);
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.clock.now() >= entry.expiresAt) {
      this.remove(key, entry);
      this.onEvict('expired');
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    if (ttlMs <= 0) return;
    const bytes = key.length * 2 + this.sizeOf(value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries < 1) return;
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.bounds.maxEntries) this.evictOldest('entries');
    while (this.bytes > this.bounds.maxBytes) this.evictOldest('bytes');
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private evictOldest(reason: CacheEvictionReason): void {
    const oldest = this.entries.entries().next();
    if (oldest.done) return;
    const [key, entry] = oldest.value;
    this.remove(key, entry);
    this.onEvict(reason);
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
