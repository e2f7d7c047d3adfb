/**
 * Part 3, herd: N clients pull one new image from B at the same moment while only A holds it
 * (herd-run.ts), in the places stack/herd-env.ts describes. Measured: requests that failed,
 * geosync's storage requests per key or target in each sibling (a holds the image, c does not),
 * the latency of every request, the herd's duration, and geosync B's resident memory (sampled
 * every 100 ms). Baseline: the same herd once replication has copied the image into B, so B
 * answers every request itself.
 */
import os from 'node:os';
import path from 'node:path';
import { createOciImage } from '../../support/oci-image';
import { sleep } from '../../support/process';
import { skopeoPush } from '../../support/skopeo';
import type { BenchContext } from '../context';
import {
  bytes,
  ms,
  num,
  seconds,
  times,
  type PartResult,
  type QuantileSeries,
  type Target,
} from '../results';
import type { HerdEnv, StorageCount } from '../stack/herd-env';
import { envoyCounters, geosyncSnapshot, snapshotDelta, type GeosyncSnapshot } from '../tools/observe';
import { cpuSeconds, machineCpuSeconds, rssBytes, sampleRss } from '../tools/process-memory';
import { distribution, ratio } from '../tools/stats';
import { runHerd, type HerdRun } from './herd-run';

export interface HerdRow {
  readonly storage: HerdEnv['storage'];
  readonly breakers: string;
  readonly n: number;
  readonly rescued: HerdRun;
  readonly local: HerdRun;
  readonly storageRequests: Record<'a' | 'c', StorageCount>;
  readonly idleRss: number;
  readonly peakRss: number;
  /** CPU seconds geosync B used during the rescued herd. */
  readonly cpuSeconds: number;
  /** CPU seconds every process on the machine used during each herd (Envoys, registries, vegeta, …). */
  readonly machineCpu: { readonly rescued: number; readonly local: number };
  readonly envoy: Record<string, number>;
  readonly geosync: GeosyncSnapshot;
}

/** The herds of one environment, each of a new image pushed to A just before. */
export async function herdRows(ctx: BenchContext, env: HerdEnv): Promise<HerdRow[]> {
  const s = ctx.scale.herd;
  const { a, b } = env;
  env.setRttMs(s.rttMs);
  const pid = b.geosync()?.child.pid;
  if (pid === undefined) throw new Error("region b's geosync is not running");
  const rows: HerdRow[] = [];
  for (const n of env.sizes) {
    const built = createOciImage(path.join(ctx.tmp, `herd-${env.storage.replace(/\W/g, '')}-${n}`), {
      tag: 'v1',
      layerSizes: s.layerSizes,
    });
    const image = {
      repository: `bench/herd-${n}`,
      tag: 'v1',
      manifestDigest: built.manifestDigest,
      blobs: [built.configDigest, ...built.layerDigests],
    };
    await skopeoPush(built.dir, 'v1', { host: a.host, repository: image.repository });

    const storage = await env.countStorage(1 + image.blobs.length);
    const envoyBefore = await envoyCounters(b);
    const geoBefore = await geosyncSnapshot(b, ['a', 'c']);
    const idleRss = rssBytes(pid);
    const sampler = sampleRss(pid);
    const cpuBefore = cpuSeconds(pid);
    const machineBefore = machineCpuSeconds();
    const rescued = await runHerd(ctx, b.url, image, n);
    const machineRescued = machineCpuSeconds() - machineBefore;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const peakRss = sampler.stop();
    await sleep(1000); // Swift logs a request after answering it: let the last datagrams arrive
    const storageRequests = await storage();
    const envoyAfter = await envoyCounters(b);
    const geosync = snapshotDelta(geoBefore, await geosyncSnapshot(b, ['a', 'c']));

    await env.replicate(image.repository, [image.manifestDigest, ...image.blobs]);
    const localBefore = machineCpuSeconds();
    const local = await runHerd(ctx, b.url, image, n);
    const machineLocal = machineCpuSeconds() - localBefore;
    ctx.log(
      `  ${env.storage} herd ${n}: failed ${rescued.failedRequests} ${JSON.stringify(rescued.failures)}, ` +
        `storage a ${storageRequests.a.text}, c ${storageRequests.c.text}; p99 ${ms(rescued.latency.p99Ms)} ` +
        `vs local ${ms(local.latency.p99Ms)}; RSS ${bytes(peakRss)}; decisions ${JSON.stringify(geosync.decisions)}`,
    );
    const envoy = Object.fromEntries(
      Object.entries(envoyAfter).map(([k, v]) => [k, v - envoyBefore[k as keyof typeof envoyBefore]]),
    );
    rows.push({
      storage: env.storage,
      breakers: env.breakers,
      n,
      rescued,
      local,
      storageRequests,
      idleRss,
      peakRss,
      cpuSeconds: cpu,
      machineCpu: { rescued: machineRescued, local: machineLocal },
      envoy,
      geosync,
    });
  }
  return rows;
}

export function herdPart(ctx: BenchContext, rows: readonly HerdRow[], secondsTaken: number): PartResult {
  const s = ctx.scale.herd;
  const name = (r: HerdRow) => `${r.n} on ${r.storage}`;
  const failed = rows.filter((r) => r.rescued.failedRequests > 0);
  const multi = rows.filter((r) => r.storageRequests.a.worst > 1 || r.storageRequests.c.worst > 1);
  const targets: Target[] = [
    {
      text: 'storage requests per region per key: 1',
      met: multi.length === 0,
      ...(multi.length
        ? {
            note: `more in ${multi.map((r) => `${name(r)} (a ${num(r.storageRequests.a.worst)}, c ${num(r.storageRequests.c.worst)})`).join(', ')}`,
          }
        : {}),
    },
    {
      text: 'pulls failed: 0',
      met: failed.length === 0,
      ...(failed.length
        ? {
            note: failed
              .map(
                (r) =>
                  `${name(r)}: ${r.rescued.failedRequests} requests ${JSON.stringify(r.rescued.failures)}`,
              )
              .join('; '),
          }
        : {}),
    },
  ];
  const series: QuantileSeries[] = rows.flatMap((r, i) => [
    { label: `${name(r)}, rescued`, distribution: distribution(r.rescued.latenciesMs), group: i + 2 },
    {
      label: `${name(r)}, local`,
      distribution: distribution(r.local.latenciesMs),
      group: i + 2,
      dashed: true,
    },
  ]);
  const withoutSamples = rows.map(({ rescued, local, ...r }) => ({
    ...r,
    rescued: { ...rescued, latenciesMs: undefined },
    local: { ...local, latenciesMs: undefined },
  }));
  return {
    part: 3,
    title: 'Herd: N clients pull one new image from B at once',
    method:
      `N clients pull an image (manifest by tag, config, ${s.layerSizes.length} layer(s) of ` +
      `${s.layerSizes.map((x) => bytes(x)).join(' and ')}) pushed to A a moment before, through B's Envoy: ` +
      `a vegeta burst of N manifest GETs, then one of N × ${1 + s.layerSizes.length} blob GETs, N in flight; ` +
      `RTT ${s.rttMs} ms. Baseline ("local"): the same herd after replication copied the image into B. ` +
      "geosync's storage requests: Swift's access log per key on Swift S3; geosync_probes_total per " +
      'lookup target on the filesystem (see the notes for why the large herds run there).',
    table: {
      header: [
        'storage',
        'circuit breakers',
        'pulls',
        'failed requests',
        'storage requests: a (holds it)',
        'c (does not)',
        'p50 rescued',
        'p50 local',
        'ratio',
        'p99 rescued',
        'p99 local',
        'ratio',
        'herd time',
        'local',
        'ratio',
        'geosync RSS peak',
        'idle',
        'ratio',
        'geosync CPU (share of one core)',
        'machine CPU, rescued / local (busy)',
      ],
      rows: rows.map((r) => [
        r.storage,
        r.breakers,
        String(r.n),
        String(r.rescued.failedRequests),
        r.storageRequests.a.text,
        r.storageRequests.c.text,
        ms(r.rescued.latency.p50Ms),
        ms(r.local.latency.p50Ms),
        times(ratio(r.rescued.latency.p50Ms, r.local.latency.p50Ms)),
        ms(r.rescued.latency.p99Ms),
        ms(r.local.latency.p99Ms),
        times(ratio(r.rescued.latency.p99Ms, r.local.latency.p99Ms)),
        seconds(r.rescued.wallMs),
        seconds(r.local.wallMs),
        times(ratio(r.rescued.wallMs, r.local.wallMs)),
        bytes(r.peakRss),
        bytes(r.idleRss),
        times(ratio(r.peakRss, r.idleRss)),
        `${num(r.cpuSeconds)} s (${Math.round((100 * r.cpuSeconds * 1000) / r.rescued.wallMs)} %)`,
        `${num(r.machineCpu.rescued)} s / ${num(r.machineCpu.local)} s = ${times(ratio(r.machineCpu.rescued, r.machineCpu.local))} ` +
          `(${busy(r.machineCpu.rescued, r.rescued.wallMs)} / ${busy(r.machineCpu.local, r.local.wallMs)})`,
      ]),
    },
    targets,
    notes: [
      "A rescued herd's latencies include its failed requests, which come back fast (the local 404, " +
        "at most Envoy's ext_proc message_timeout after the registry's answer).",
      'Machine CPU: what every process on the machine used during the herd (/proc/stat), and ' +
        `in brackets how busy that kept the ${os.availableParallelism()} cores. A rescued request is served by ` +
        "B's Envoy twice (the local 404, then the redirect), B's registry, geosync, the emulated link, " +
        "A's Envoy and A's registry, all on these cores; the local one by B's Envoy and registry. " +
        'When the cores are busy throughout, the herd time follows the CPU work, whatever geosync does.',
      ...herdNotes(rows),
    ],
    data: { rows: withoutSamples },
    panels: [{ kind: 'quantiles', title: '3 · herd from B: every request, rescued vs local', series }],
    seconds: secondsTaken,
  };
}

/** Share of the machine's cores kept busy over `wallMs`. */
function busy(cpuSeconds: number, wallMs: number): string {
  return `${Math.round((100 * cpuSeconds * 1000) / (wallMs * os.availableParallelism()))} %`;
}

function herdNotes(rows: readonly HerdRow[]): string[] {
  const name = (r: HerdRow) => `${r.n} on ${r.storage}`;
  return rows.map((r) => {
    const e = r.envoy;
    const failOpen = e.failureModeAllowed
      ? ` Envoy let ${e.failureModeAllowed} 404s through unanswered (failure_mode_allow): ` +
        `${e.messageTimeouts} because geosync's reply came after the ext_proc message_timeout, ` +
        `${Math.max(0, (e.failureModeAllowed ?? 0) - (e.messageTimeouts ?? 0))} for other reasons ` +
        '(the ext_proc stream could not be opened or failed).'
      : '';
    return (
      `${name(r)}: geosync decided ${JSON.stringify(r.geosync.decisions)} in ${r.geosync.lookups} lookups, ` +
      `${r.geosync.coalesced} of which joined one in flight; Envoy B: ${JSON.stringify(e)}.${failOpen}`
    );
  });
}
