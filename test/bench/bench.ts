/**
 * `npm run bench` (README "Benchmarks"): what geosync costs and gains on the real data
 * path (real Envoy from the generated bootstrap, real registries, Swift S3, skopeo, the vegeta
 * load generator), as ratios to baselines measured side by side in the same run. Not a test: it
 * asserts nothing about speed; it writes results.json, results.md and latency.svg.
 *
 * Environment: BENCH_OUT (output directory, default test/bench/results), BENCH_PARTS (e.g. "1,3"),
 * BENCH_SCALE=smoke (every piece at a tiny size: proves the code runs, measures nothing),
 * BENCH_REPLICATION_LAG_S and BENCH_RETRY_SLEEP_S (part 4), BENCH_RESCUED_RTTS_MS (part 2's round
 * trips, e.g. "150,250"; default 20, 80, 150 and 250), BENCH_LOOKUP_TIMEOUT_MS (geosync's
 * lookupTimeoutMs in parts 2-4 and 7, stack/s3-stack.ts), BENCH_SIBLING_PROTOCOL (the sibling
 * clusters' `protocol` in part 3's filesystem herds: http1, http2 or auto), VEGETA_BIN, ENVOY_BIN.
 */
import path from 'node:path';
import { ROOT } from '../support/clients/geosync-cli';
import { markdown } from './report/markdown';
import { ALL_PARTS, runBench } from './run';
import { SMOKE, scaleFromEnv } from './scale';
import { THREADPOOL_SIZE } from '../../src/storage/fs-calls';
import type { UpstreamProtocol } from '../../src/config/types';

// Part 5 runs geosync in this process: give it the threadpool `geosync serve` runs with (src/main.ts).
process.env.UV_THREADPOOL_SIZE ??= String(THREADPOOL_SIZE);

async function main(): Promise<void> {
  const parts = process.env.BENCH_PARTS?.split(',').map(Number) ?? [...ALL_PARTS];
  if (parts.some((p) => !ALL_PARTS.includes(p as (typeof ALL_PARTS)[number]))) {
    throw new Error(`BENCH_PARTS: parts are ${ALL_PARTS.join(', ')}`);
  }
  const outDir = process.env.BENCH_OUT ?? path.join(ROOT, 'test/bench/results');
  const { run: result, files } = await runBench({
    scale: process.env.BENCH_SCALE === 'smoke' ? SMOKE : scaleFromEnv(),
    outDir,
    parts,
    ...(process.env.BENCH_LOOKUP_TIMEOUT_MS
      ? { lookupTimeoutMs: Number(process.env.BENCH_LOOKUP_TIMEOUT_MS) }
      : {}),
    ...(process.env.BENCH_SIBLING_PROTOCOL
      ? { siblingProtocol: process.env.BENCH_SIBLING_PROTOCOL as UpstreamProtocol }
      : {}),
  });
  process.stdout.write(`${markdown(result)}\n`);
  process.stdout.write(`written: ${Object.values(files).join(', ')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
