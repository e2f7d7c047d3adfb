/**
 * How big each part runs. `full` is `npm run bench` (sized to finish on 2 cores in well under 20
 * minutes); `smoke` runs every piece at a size that only proves the code still works
 * (test/integration/bench/smoke.test.ts) and says nothing about speed.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export interface ImageSize {
  readonly label: string;
  /** Sizes of the random file in each layer (test/support/oci/oci-image.ts). */
  readonly layerSizes: readonly number[];
}

export interface BenchScale {
  readonly name: 'full' | 'smoke';
  /** `listen.workers` of every geosync the run starts (absent: geosync's default, one per core). */
  readonly workers?: number;
  readonly localHits: {
    readonly concurrencies: readonly number[];
    readonly seconds: number;
    readonly warmupSeconds: number;
    /** Pairs of runs, the sides alternating (A B, B A, …) so drift of the machine hits both alike. */
    readonly rounds: number;
    readonly blobBytes: number;
  };
  readonly rescued: {
    /** Round trips between regions (each direction is delayed by half). */
    readonly rttsMs: readonly number[];
    readonly sizes: readonly ImageSize[];
    /** Pulls per side and size (each of new content). */
    readonly pairs: number;
  };
  readonly herd: {
    /** Herd sizes on Swift S3 and on the filesystem (stack/herd-env.ts says why both). */
    readonly s3Sizes: readonly number[];
    readonly fsSizes: readonly number[];
    readonly layerSizes: readonly number[];
    readonly rttMs: number;
  };
  readonly alternatives: {
    readonly lagSeconds: number;
    readonly retrySleepSeconds: number;
    readonly rttMs: number;
    readonly layerSizes: readonly number[];
  };
  readonly extproc: {
    readonly streams: number;
    readonly rounds: number;
    readonly concurrency: number;
    readonly heapStreams: number;
  };
  readonly freshness: {
    /** GETs of a tag never checked before (each a cache miss), after `warmup` of them. */
    readonly misses: number;
    /** GETs of one tag within T (each a cache hit). */
    readonly hits: number;
    readonly warmup: number;
    readonly rttMs: number;
  };
  readonly tagLists: {
    /** Repositories every region holds alike, each listed once (a listing of the siblings each). */
    readonly repositories: number;
    /** Lists of one repository in a row, at the default bound (1 s): mostly answered from the cache. */
    readonly repeats: number;
    readonly warmup: number;
    readonly rttMs: number;
  };
  readonly memory: {
    /** Entry caps, each asked a few more distinct lookups than it holds. */
    readonly caps: readonly number[];
    /** Distinct lookups into a cache with the default bounds (more than its 32 MiB holds). */
    readonly defaultsLookups: number;
    /** Measure in a fresh child process per size (false: in this process, for the smoke test). */
    readonly isolate: boolean;
  };
}

export const FULL: BenchScale = {
  name: 'full',
  localHits: { concurrencies: [1, 16, 64], seconds: 2, warmupSeconds: 1, rounds: 10, blobBytes: 1 * MiB },
  rescued: {
    // 150 and 250 ms: a sibling on another continent, with the per-region deadlines' defaults.
    rttsMs: [20, 80, 150, 250],
    sizes: [
      { label: '1 MiB', layerSizes: [512 * KiB, 512 * KiB] },
      { label: '16 MiB', layerSizes: [8 * MiB, 4 * MiB, 4 * MiB] },
      { label: '64 MiB', layerSizes: [32 * MiB, 16 * MiB, 8 * MiB, 8 * MiB] },
    ],
    pairs: 3,
  },
  herd: { s3Sizes: [100], fsSizes: [100, 1000, 5000], layerSizes: [64 * KiB], rttMs: 20 },
  alternatives: { lagSeconds: 10, retrySleepSeconds: 5, rttMs: 20, layerSizes: [4 * MiB, 1 * MiB] },
  extproc: { streams: 1500, rounds: 5, concurrency: 64, heapStreams: 10_000 },
  freshness: { misses: 200, hits: 200, warmup: 10, rttMs: 20 },
  tagLists: { repositories: 100, repeats: 200, warmup: 5, rttMs: 20 },
  memory: { caps: [10_000, 100_000, 1_000_000], defaultsLookups: 200_000, isolate: true },
};

export const SMOKE: BenchScale = {
  name: 'smoke',
  // One process per geosync: the smoke guards the benchmark's code, and every worker is one more
  // Node process to start in each of its eleven regions.
  workers: 1,
  localHits: { concurrencies: [2], seconds: 0.3, warmupSeconds: 0.1, rounds: 2, blobBytes: 4 * KiB },
  rescued: { rttsMs: [2], sizes: [{ label: '8 KiB', layerSizes: [4 * KiB, 4 * KiB] }], pairs: 1 },
  herd: { s3Sizes: [3], fsSizes: [5], layerSizes: [1 * KiB], rttMs: 2 },
  alternatives: { lagSeconds: 1, retrySleepSeconds: 0.5, rttMs: 2, layerSizes: [1 * KiB] },
  extproc: { streams: 40, rounds: 1, concurrency: 4, heapStreams: 40 },
  freshness: { misses: 3, hits: 3, warmup: 1, rttMs: 2 },
  tagLists: { repositories: 1, repeats: 3, warmup: 1, rttMs: 2 },
  memory: { caps: [1000], defaultsLookups: 2000, isolate: false },
};

/** Full scale with the operator's knobs from the environment (README "Benchmarks"). */
export function scaleFromEnv(env = process.env): BenchScale {
  const lag = Number(env.BENCH_REPLICATION_LAG_S ?? FULL.alternatives.lagSeconds);
  const sleep = Number(env.BENCH_RETRY_SLEEP_S ?? FULL.alternatives.retrySleepSeconds);
  if (!(lag >= 0) || !(sleep > 0)) {
    throw new Error('BENCH_REPLICATION_LAG_S must be >= 0 and BENCH_RETRY_SLEEP_S > 0 (seconds)');
  }
  const rtts = env.BENCH_RESCUED_RTTS_MS?.split(',').map(Number);
  if (rtts && !rtts.every((n) => n >= 0))
    throw new Error('BENCH_RESCUED_RTTS_MS must list round trips in ms, e.g. 150,250');
  return {
    ...FULL,
    rescued: rtts ? { ...FULL.rescued, rttsMs: rtts } : FULL.rescued,
    alternatives: { ...FULL.alternatives, lagSeconds: lag, retrySleepSeconds: sleep },
  };
}
