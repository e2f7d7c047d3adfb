/**
 * One run of the benchmark: the six parts of issue 14 and part 7 (issue 12: what tag freshness
 * costs) in an order that shares what can be shared (the in-process parts first, then the
 * filesystem deployment of part 1, then one S3 deployment for parts 2-4, then part 7's own), then
 * the results written as JSON, Markdown and SVG.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envoyBinary } from '../support/envoy/envoy';
import type { BenchContext } from './context';
import { alternatives } from './parts/alternatives';
import { cacheMemory } from './parts/cache-memory';
import { extprocOverhead } from './parts/extproc-overhead';
import { herdRows, type HerdRow } from './parts/herd';
import { herdPart } from './parts/herd-report';
import { pushChecks, type PushCheck } from './parts/push-checks';
import { localHits } from './parts/local-hits';
import { rescuedPulls } from './parts/rescued-pulls';
import { startFreshnessStack, tagFreshness } from './parts/tag-freshness';
import { tagLists } from './parts/tag-lists';
import { writeRun } from './report/write';
import type { BenchRun, Machine, PartResult } from './results';
import type { BenchScale } from './scale';
import { s3HerdEnv, startFsHerdEnv, type HerdEnv } from './stack/herd-env';
import { startS3Stack, type S3Stack } from './stack/s3-stack';
import { Vegeta, vegetaBinary } from './tools/vegeta';

import type { UpstreamProtocol } from '../../src/config/types';

export const ALL_PARTS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

export interface RunOptions {
  readonly scale: BenchScale;
  readonly outDir: string;
  readonly parts?: readonly number[];
  /** geosync's lookupTimeoutMs in parts 2-4 and 7 (default: stack/s3-stack.ts LOOKUP_TIMEOUT_MS). */
  readonly lookupTimeoutMs?: number;
  /** `envoy.siblingDefaults.protocol` of part 3's filesystem herds (default: the generator's). */
  readonly siblingProtocol?: UpstreamProtocol;
  readonly log?: (line: string) => void;
}

function machine(vegeta: string, loadAtStart: number): Machine {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  return {
    nproc: Number(nproc) || os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    envoy: envoyBinary('newest').version,
    // scripts/bench-tools.sh installs into .bench/vegeta/<version>/.
    vegeta: /\/vegeta\/(v[^/]+)\/vegeta$/.exec(vegeta)?.[1] ?? vegeta,
    kernel: os.release(),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] as number },
  };
}

export async function runBench(
  opts: RunOptions,
): Promise<{ run: BenchRun; files: Awaited<ReturnType<typeof writeRun>> }> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const wanted = new Set(opts.parts ?? ALL_PARTS);
  const started = performance.now();
  const date = new Date().toISOString();
  const loadAtStart = os.loadavg()[0] as number;
  const bin = await vegetaBinary();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-bench-'));
  const ctx: BenchContext = { scale: opts.scale, vegeta: new Vegeta(bin, tmp), tmp, log };
  const parts: PartResult[] = [];
  const step = async (n: number, title: string, fn: () => Promise<PartResult>) => {
    if (!wanted.has(n)) return;
    log(`part ${n}: ${title}`);
    const r = await fn();
    log(`part ${n}: done in ${Math.round(r.seconds)} s`);
    parts.push(r);
  };
  const herd: HerdRow[] = [];
  const pushes: PushCheck[] = [];
  let herdMs = 0;
  const herdIn = async (env: HerdEnv, withPushes: boolean) => {
    const t = performance.now();
    herd.push(...(await herdRows(ctx, env)));
    // What a push does is the same on any storage: checked once, where storage is fast.
    if (withPushes) pushes.push(...(await pushChecks(ctx, env)));
    herdMs += performance.now() - t;
  };
  try {
    await step(5, 'geosync alone vs a null ext_proc server (in process)', () => extprocOverhead(ctx));
    await step(6, 'lookup cache memory', () => cacheMemory(ctx));
    await step(1, 'local hits, Envoy + geosync vs Envoy alone', () => localHits(ctx));
    if ([2, 3, 4].some((n) => wanted.has(n))) {
      log(
        `starting regions ${wanted.has(2) || wanted.has(3) ? 'a-d and the retrying Envoy' : 'a, b and c'} on Swift S3`,
      );
      // Parts 2 and 3 compare the kinds of lookup and Envoy's retry (stack/fronts.ts).
      const stack: S3Stack = await startS3Stack({
        fronts: wanted.has(2) || wanted.has(3),
        ...(opts.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: opts.lookupTimeoutMs }),
        ...(opts.scale.workers === undefined ? {} : { workers: opts.scale.workers }),
      });
      try {
        await step(2, 'rescued pulls vs direct pulls', () => rescuedPulls(ctx, stack));
        await step(4, 'versus the alternatives', () => alternatives(ctx, stack));
        if (wanted.has(3)) {
          log('part 3: herd on Swift S3');
          await herdIn(s3HerdEnv(stack, opts.scale.herd.s3Sizes), false);
        }
      } finally {
        await stack.stop();
      }
    }
    if (wanted.has(7) || wanted.has(8)) {
      log('starting three regions on Swift S3, tag freshness on in b, tag lists off in c');
      const stack = await startFreshnessStack(opts.lookupTimeoutMs, opts.scale.workers);
      try {
        await step(7, 'a tag GET with tag freshness on vs off', () => tagFreshness(ctx, stack));
        await step(8, 'a tag list with the union on vs off', () => tagLists(ctx, stack));
      } finally {
        await stack.stop();
      }
    }
    if (wanted.has(3)) {
      log('part 3: herd on the filesystem driver');
      const env = await startFsHerdEnv(opts.scale.herd.fsSizes, opts.siblingProtocol, opts.scale.workers);
      try {
        await herdIn(env, true);
      } finally {
        await env.stop();
      }
      parts.push(herdPart(ctx, herd, pushes, herdMs / 1000));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const run: BenchRun = {
    date,
    scale: opts.scale.name,
    machine: machine(bin, loadAtStart),
    totalSeconds: (performance.now() - started) / 1000,
    parts: parts.sort((a, b) => a.part - b.part),
  };
  const files = await writeRun(run, opts.outDir);
  return { run, files };
}
