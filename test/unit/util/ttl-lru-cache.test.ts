import { TtlLruCache } from '../../../src/util/ttl-lru-cache';
import type { CacheEvictionReason } from '../../../src/locate/observer';
import { ManualClock } from '../../support/clock';

function cache(bounds: { maxEntries: number; maxBytes: number }) {
  const clock = new ManualClock();
  const evictions: CacheEvictionReason[] = [];
  const c = new TtlLruCache<string>(
    bounds,
    clock,
    (v) => v.length * 2,
    (r) => evictions.push(r),
  );
  return { c, clock, evictions };
}

describe('TtlLruCache', () => {
  it('answers until the entry expires, then forgets it', () => {
    const { c, clock, evictions } = cache({ maxEntries: 10, maxBytes: 1 << 20 });
    c.set('k', 'v', 1000);
    clock.advance(999);
    expect(c.get('k')).toBe('v');
    clock.advance(1);
    expect(c.get('k')).toBeUndefined();
    expect(evictions).toEqual(['expired']);
    expect(c.size).toBe(0);
    expect(c.byteSize).toBe(0);
  });

  it('gives each entry its own TTL', () => {
    const { c, clock } = cache({ maxEntries: 10, maxBytes: 1 << 20 });
    c.set('digest', 'a', 600_000);
    c.set('tag', 'b', 5_000);
    clock.advance(5_000);
    expect([c.get('digest'), c.get('tag')]).toEqual(['a', undefined]);
  });

  it('evicts the least recently used entry over maxEntries', () => {
    const { c, evictions } = cache({ maxEntries: 2, maxBytes: 1 << 20 });
    c.set('a', '1', 1000);
    c.set('b', '2', 1000);
    expect(c.get('a')).toBe('1');
    c.set('c', '3', 1000);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual(['1', undefined, '3']);
    expect(evictions).toEqual(['entries']);
  });

  it('evicts over maxBytes and counts the bytes it holds', () => {
    // Each entry: key 1 char (2 bytes) + value 10 chars (20 bytes) + 96 overhead = 118 bytes.
    const { c, evictions } = cache({ maxEntries: 100, maxBytes: 250 });
    c.set('a', 'x'.repeat(10), 1000);
    c.set('b', 'x'.repeat(10), 1000);
    expect(c.byteSize).toBe(236);
    c.set('c', 'x'.repeat(10), 1000);
    expect(c.size).toBe(2);
    expect(c.byteSize).toBe(236);
    expect(c.get('a')).toBeUndefined();
    expect(evictions).toEqual(['bytes']);
  });

  it('replaces an entry in place, and a zero TTL stores nothing', () => {
    const { c } = cache({ maxEntries: 10, maxBytes: 1 << 20 });
    c.set('k', 'old', 1000);
    c.set('k', 'new', 1000);
    expect([c.size, c.get('k')]).toEqual([1, 'new']);
    c.set('k', 'gone', 0);
    expect([c.size, c.get('k')]).toEqual([0, undefined]);
  });
});
