/**
 * Part 6, memory: resident and heap memory of the lookup cache (src/locate/cache.ts) filled to 10k,
 * 100k and 1M entries (each cap asked OVERFLOW more distinct lookups than it holds, so the cap is
 * what stops it), then the default bounds (100,000 entries, 32 MiB estimated) under more distinct
 * lookups than their byte bound holds. Also the time per lookup before and after the cache is
 * full: eviction is on the path of every new lookup once it is.
 * Each measurement runs in a fresh Node process (cache-memory-child.ts); the baseline is the same
 * process with the locator built and the cache empty.
 */
import { execFile } from 'node:child_process';
import { DEFAULTS } from '../../../src/config/defaults';
import { elapsedSeconds, type BenchContext } from '../context';
import { bytes, num, times, type PartResult, type Target } from '../results';
import { ratio } from '../tools/stats';
import { measureCacheMemory, type CacheMemoryInput, type CacheMemoryResult } from './cache-memory-child';

/**
 * Lookups beyond each explicit cap. Small on purpose: evicting from a full cache gets slower with
 * every eviction (see the "per lookup" columns of the defaults row), and a 1M-entry cache asked
 * 20 % more took minutes, which this run cannot afford.
 */
const OVERFLOW = 1000;
/** Large enough never to be what bounds the explicit caps. */
const UNBOUNDED_BYTES = 64 * 1024 * 1024 * 1024;
/** The 1M-entry cache needs more than Node's default old space on small machines. */
const HEAP_LIMIT_MB = 6144;

const perLookup = (msTotal: number, n: number) => (n > 0 ? (msTotal * 1000) / n : NaN);
const us = (msTotal: number, n: number) => (n > 0 ? `${num(perLookup(msTotal, n))} µs` : 'n/a');

function inChild(input: CacheMemoryInput): Promise<CacheMemoryResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--expose-gc',
        `--max-old-space-size=${HEAP_LIMIT_MB}`,
        require.resolve('./cache-memory-child'),
        JSON.stringify(input),
      ],
      { maxBuffer: 1 << 20, timeout: 600_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`cache memory child: ${err.message}\n${stderr}`))
          : resolve(JSON.parse(stdout) as CacheMemoryResult),
    );
  });
}

export async function cacheMemory(ctx: BenchContext): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.memory;
  const measure = s.isolate ? inChild : measureCacheMemory;
  const defaults = DEFAULTS.locate.cache;
  const inputs: (CacheMemoryInput & { label: string })[] = [
    ...s.caps.map((cap) => ({
      label: `${num(cap)} entries`,
      lookups: cap + OVERFLOW,
      maxEntries: cap,
      maxBytes: UNBOUNDED_BYTES,
    })),
    {
      label: `defaults (${num(defaults.maxEntries)} entries, ${bytes(defaults.maxBytes)})`,
      lookups: s.defaultsLookups,
      maxEntries: defaults.maxEntries,
      maxBytes: defaults.maxBytes,
    },
  ];
  const results: (CacheMemoryResult & { label: string })[] = [];
  for (const input of inputs) {
    const { label, ...rest } = input;
    const r = await measure(rest);
    ctx.log(
      `  ${label}: ${r.entries} entries, heap +${bytes(r.heapAfter - r.heapBefore)}, RSS ${bytes(r.rssAfter)}`,
    );
    results.push({ ...r, label });
  }
  const over = results.filter((r) => r.entries > r.maxEntries);
  const def = results[results.length - 1] as CacheMemoryResult;
  const defGrowth = def.heapAfter - def.heapBefore;
  const targets: Target[] = [
    {
      text: 'entries bounded by the cap (maxEntries) in every run',
      met: over.length === 0,
      ...(over.length ? { note: over.map((r) => `${r.entries} > ${r.maxEntries}`).join(', ') } : {}),
    },
    {
      text: `memory bounded by maxBytes with the defaults: heap growth ≤ ${bytes(defaults.maxBytes)}`,
      met: defGrowth <= defaults.maxBytes,
      note: `heap grew ${bytes(defGrowth)}, ${times(ratio(defGrowth, defaults.maxBytes))} maxBytes, holding ${num(def.entries)} entries`,
    },
  ];
  return {
    part: 6,
    title: 'Memory of the lookup cache',
    method:
      'The locator `geosync serve` builds, with its storage probe replaced by one that finds everything ' +
      'at once, asked distinct blob lookups (`team/app`, one digest each, 64 in flight: as many as load shedding first admits): ' +
      `${num(OVERFLOW)} more than each explicit cap (maxBytes out of the way), ` +
      `${num(s.defaultsLookups)} with the default bounds. Memory after a full GC, each size in a fresh ` +
      'Node process; baseline: that process before the first lookup. Time per lookup: before the first ' +
      'eviction, and after it.',
    table: {
      header: [
        'cache',
        'lookups',
        'entries held',
        'heap',
        'heap empty',
        'ratio',
        'RSS',
        'RSS empty',
        'ratio',
        'heap per entry',
        'per lookup, not full',
        'full (evicting)',
        'ratio',
      ],
      rows: results.map((r) => [
        r.label,
        num(r.lookups),
        num(r.entries),
        bytes(r.heapAfter),
        bytes(r.heapBefore),
        times(ratio(r.heapAfter, r.heapBefore)),
        bytes(r.rssAfter),
        bytes(r.rssBefore),
        times(ratio(r.rssAfter, r.rssBefore)),
        bytes((r.heapAfter - r.heapBefore) / Math.max(1, r.entries)),
        us(r.msBeforeFull, r.lookupsBeforeFull),
        us(r.fillMs - r.msBeforeFull, r.lookups - r.lookupsBeforeFull),
        times(
          ratio(
            perLookup(r.fillMs - r.msBeforeFull, r.lookups - r.lookupsBeforeFull),
            perLookup(r.msBeforeFull, r.lookupsBeforeFull),
          ),
        ),
      ]),
    },
    targets,
    notes: [`evictions with the defaults: ${JSON.stringify(def.evictions)}.`],
    data: { results },
    panels: [],
    seconds: elapsedSeconds(started),
  };
}
