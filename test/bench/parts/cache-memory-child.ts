/**
 * One measurement of part 6, meant to run in a fresh Node process (so one size's garbage does not
 * weigh on the next): the Locator `geosync serve` builds (src/app/locator-factory.ts) from a
 * configuration with the given `locate.cache` bounds, its storage probe replaced by one that finds
 * everything at once, asked `lookups` distinct blob lookups (each answer is cached for the digest
 * TTL); resident and heap memory after a full garbage collection, before and after.
 *
 * Run as `node --expose-gc cache-memory-child.js '{"lookups":…,"maxEntries":…,"maxBytes":…}'`:
 * prints the result as one JSON line.
 */
import { setMaxListeners } from 'node:events';
import { buildLocator } from '../../../src/app/locator-factory';
import { admissionFor } from '../../../src/locate/admission';
import { loadConfigText } from '../../../src/config/load';
import { parseDigest, type Digest } from '../../../src/oci/reference';
import type { ObjectProbe, ProbeResult } from '../../../src/storage/probe';

export interface CacheMemoryInput {
  readonly lookups: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface CacheMemoryResult extends CacheMemoryInput {
  /** Entries the cache holds at the end: lookups cached minus evictions. */
  readonly entries: number;
  readonly evictions: Readonly<Record<string, number>>;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly fillMs: number;
  /** Lookups done before the first eviction, and the time they took. */
  readonly lookupsBeforeFull: number;
  readonly msBeforeFull: number;
  readonly gc: boolean;
}

/** A probe that finds every key at once, without I/O. */
const instantProbe: ObjectProbe = {
  region: 'a',
  head: async (): Promise<ProbeResult> => ({ status: 'found', lastModified: new Date() }),
  read: async () => ({ status: 'not_found' }),
  list: async () => ({ status: 'found', names: [] }),
  close: async () => {},
};

function memory(): { heap: number; rss: number; gc: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, gc: gc !== undefined };
}

export async function measureCacheMemory(input: CacheMemoryInput): Promise<CacheMemoryResult> {
  const parsed = loadConfigText(`
region: b
locate:
  keepWarmIntervalMs: 0
  cache: { maxEntries: ${input.maxEntries}, maxBytes: ${input.maxBytes} }
regions:
  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: /nonexistent/a } }
  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: /nonexistent/b } }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  // Lookups in flight at once: no more than load shedding admits before it has learnt anything
  // (src/locate/admission.ts), so every lookup is done and cached, none answered `shed`.
  const batchSize = admissionFor(parsed.config.locate.maxConcurrentProbesPerRegion).initial;
  const evictions: Record<string, number> = { expired: 0, entries: 0, bytes: 0 };
  const locator = buildLocator(parsed.config, {
    wrapProbe: () => instantProbe,
    observer: { cacheEviction: (reason) => (evictions[reason] = (evictions[reason] ?? 0) + 1) },
  });
  const digest = (i: number) => parseDigest(`sha256:${i.toString(16).padStart(64, '0')}`) as Digest;
  const signal = new AbortController().signal;
  setMaxListeners(Infinity, signal); // every lookup in flight waits on it
  const before = memory();
  const started = performance.now();
  let beforeFull: { lookups: number; ms: number } | undefined;
  for (let i = 0; i < input.lookups; i += batchSize) {
    if (!beforeFull && Object.values(evictions).some((n) => n > 0)) {
      beforeFull = { lookups: i, ms: performance.now() - started };
    }
    const batch = [];
    for (let j = i; j < Math.min(input.lookups, i + batchSize); j++) {
      batch.push(locator.locate({ kind: 'blob', repository: 'team/app', digest: digest(j) }, signal));
    }
    for (const r of await Promise.all(batch)) {
      if (r.outcome !== 'found') throw new Error(`lookup answered ${r.outcome}`);
    }
  }
  const fillMs = performance.now() - started;
  const after = memory();
  const evicted = Object.values(evictions).reduce((a, b) => a + b, 0);
  await locator.close();
  return {
    ...input,
    entries: input.lookups - evicted,
    evictions,
    heapBefore: before.heap,
    heapAfter: after.heap,
    rssBefore: before.rss,
    rssAfter: after.rss,
    fillMs,
    lookupsBeforeFull: beforeFull?.lookups ?? input.lookups,
    msBeforeFull: beforeFull?.ms ?? fillMs,
    gc: after.gc,
  };
}

if (require.main === module) {
  measureCacheMemory(JSON.parse(process.argv[2] ?? '{}') as CacheMemoryInput).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
