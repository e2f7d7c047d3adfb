/**
 * Part 3, herd: N clients pull one new image from B at the same moment while only A holds it
 * (herd-run.ts), in the places stack/herd-env.ts describes, three ways (stack/fronts.ts): through
 * geosync with storage lookups (B), with registry-API lookups (D, B's twin), and through Envoy's
 * own retry of each 404 on a, then c (no geosync); each way pulls an image of its own. Measured:
 * requests that failed, geosync's requests to each sibling (storage requests per key or target,
 * registry-API requests at the siblings' registries), the pulls that crossed to the siblings'
 * registries, the latency of every request, the herd's duration, and the deciding geosync's
 * resident memory (sampled every 100 ms) and CPU. Then N clients ask at once for a tag no region
 * holds, and each way pushes an image (push-checks.ts). Baseline: the same herd once replication
 * has copied the image into B, so B answers every request itself.
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
import { LOOKUP_KINDS, LOOKUP_LABEL, type Front, type LookupKind } from '../stack/fronts';
import type { HerdEnv, StorageCount } from '../stack/herd-env';
import { envoyCounters, geosyncSnapshot, snapshotDelta, type GeosyncSnapshot } from '../tools/observe';
import { cpuSeconds, machineCpuSeconds, rssBytes, sampleRss } from '../tools/process-memory';
import { countRegistryRequests, type RegistryRequests } from '../tools/registry-requests';
import { distribution, ratio } from '../tools/stats';
import { runAbsentHerd, runHerd, type AbsentRun, type HerdImage, type HerdRun } from './herd-run';
import type { PushCheck } from './push-checks';

/** What reached one sibling during a herd. */
export interface SiblingCount {
  /** geosync's storage requests (storage lookups only). */
  readonly storage?: StorageCount;
  /** At the sibling's registry: geosync's API lookups, and the pulls that crossed. */
  readonly registry: RegistryRequests;
}

export interface HerdRow {
  readonly storage: HerdEnv['storage'];
  readonly breakers: string;
  readonly kind: LookupKind;
  readonly n: number;
  readonly rescued: HerdRun;
  readonly local: HerdRun;
  readonly siblings: Record<'a' | 'c', SiblingCount>;
  /** N GETs at once of a tag no region holds, what they sent to the siblings, the front's Envoy. */
  readonly absent: AbsentRun & {
    readonly siblings: Record<'a' | 'c', SiblingCount>;
    readonly envoy: Record<string, number>;
  };
  /** The deciding geosync (none for Envoy's retry). */
  readonly geosync?: {
    readonly idleRss: number;
    readonly peakRss: number;
    /** CPU seconds it used during the rescued herd. */
    readonly cpuSeconds: number;
    readonly snapshot: GeosyncSnapshot;
  };
  /** CPU seconds every process on the machine used during each herd (Envoys, registries, vegeta, …). */
  readonly machineCpu: { readonly rescued: number; readonly local: number };
  /** The front's Envoy (B's, D's or the retrying one). */
  readonly envoy: Record<string, number>;
}

/** How long the counts may keep growing after a herd (a loaded machine delays the logs). */
const SETTLE_DEADLINE_MS = 15_000;
/**
 * Quiet this long before the counts are read: a lookup may still be in flight after its client
 * got its answer, up to geosync's longest sibling deadline (`lookupTimeoutMaxMs`, 2 s). The smoke
 * scale counts nothing it reports, and waits less.
 */
const settleQuietMs = (ctx: BenchContext) => (ctx.scale.name === 'smoke' ? 1000 : 3000);

/**
 * Counts what reaches a and c from now on; the result reads it once nothing more has arrived for
 * settleQuietMs: Swift and the registries log a request after answering it, and Swift's
 * datagrams and a lookup that outlived its deadline can arrive seconds later on this loaded machine.
 */
async function countSiblings(
  ctx: BenchContext,
  env: HerdEnv,
  front: Front,
  targets: number,
): Promise<() => Promise<Record<'a' | 'c', SiblingCount>>> {
  const storage = front.kind === 'storage' ? await env.countStorage(targets) : undefined;
  const a = countRegistryRequests(env.a.registry.logFile);
  const c = countRegistryRequests(env.c.registry.logFile);
  const read = async (): Promise<Record<'a' | 'c', SiblingCount>> => {
    const s = await storage?.();
    return {
      a: { ...(s ? { storage: s.a } : {}), registry: a() },
      c: { ...(s ? { storage: s.c } : {}), registry: c() },
    };
  };
  return async () => {
    const deadline = Date.now() + SETTLE_DEADLINE_MS;
    let last = await read();
    let quietSince = Date.now();
    while (Date.now() - quietSince < settleQuietMs(ctx) && Date.now() < deadline) {
      await sleep(1000);
      const now = await read();
      if (JSON.stringify(now) !== JSON.stringify(last)) quietSince = Date.now();
      last = now;
    }
    return last;
  };
}

async function pushedImage(ctx: BenchContext, env: HerdEnv, n: number, kind: LookupKind): Promise<HerdImage> {
  const built = createOciImage(path.join(ctx.tmp, `herd-${env.storage.replace(/\W/g, '')}-${n}-${kind}`), {
    tag: 'v1',
    layerSizes: ctx.scale.herd.layerSizes,
  });
  const image = {
    repository: `bench/herd-${n}-${kind}`,
    tag: 'v1',
    manifestDigest: built.manifestDigest,
    blobs: [built.configDigest, ...built.layerDigests],
  };
  await skopeoPush(built.dir, 'v1', { host: env.a.host, repository: image.repository });
  return image;
}

/** The herds of one environment: per size, one through each front, each of a new image pushed to A. */
export async function herdRows(ctx: BenchContext, env: HerdEnv): Promise<HerdRow[]> {
  const s = ctx.scale.herd;
  env.setRttMs(s.rttMs);
  const rows: HerdRow[] = [];
  for (const n of env.sizes) {
    const measured: Omit<HerdRow, 'local' | 'machineCpu'>[] = [];
    const machineRescued: number[] = [];
    const images: HerdImage[] = [];
    for (const kind of LOOKUP_KINDS) {
      const front = env.fronts.of(kind);
      const image = await pushedImage(ctx, env, n, kind);
      images.push(image);
      const pid = front.region?.geosync()?.child.pid;
      if (front.region && pid === undefined)
        throw new Error(`region ${front.region.name}'s geosync is not running`);

      const siblings = await countSiblings(ctx, env, front, 1 + image.blobs.length);
      const envoyBefore = await envoyCounters(front);
      const geoBefore = front.region ? await geosyncSnapshot(front.region, ['a', 'c']) : undefined;
      const idleRss = pid === undefined ? 0 : rssBytes(pid);
      const sampler = pid === undefined ? undefined : sampleRss(pid);
      const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
      const machineBefore = machineCpuSeconds();
      const rescued = await runHerd(ctx, front.url, image, n);
      machineRescued.push(machineCpuSeconds() - machineBefore);
      const cpu = pid === undefined ? 0 : cpuSeconds(pid) - cpuBefore;
      const peakRss = sampler?.stop() ?? 0;
      const counted = await siblings();
      const envoyAfter = await envoyCounters(front);
      const geosync =
        front.region && geoBefore
          ? {
              idleRss,
              peakRss,
              cpuSeconds: cpu,
              snapshot: snapshotDelta(geoBefore, await geosyncSnapshot(front.region, ['a', 'c'])),
            }
          : undefined;

      const absentSiblings = await countSiblings(ctx, env, front, 1);
      const absentEnvoy = await envoyCounters(front);
      const absentRun = await runAbsentHerd(ctx, front.url, image.repository, n);
      const absent = {
        ...absentRun,
        siblings: await absentSiblings(),
        envoy: delta(absentEnvoy, await envoyCounters(front)),
      };

      ctx.log(
        `  ${env.storage} herd ${n}, ${kind}: failed ${rescued.failedRequests} ${JSON.stringify(rescued.failures)}, ` +
          `a ${siblingText(counted.a)}, c ${siblingText(counted.c)}; p99 ${ms(rescued.latency.p99Ms)}` +
          (geosync
            ? `; RSS ${bytes(peakRss)}; decisions ${JSON.stringify(geosync.snapshot.decisions)}`
            : '') +
          `; absent tag: a ${siblingText(absent.siblings.a)}, c ${siblingText(absent.siblings.c)}, ` +
          `p50 ${ms(absent.latency.p50Ms)}, unexpected ${JSON.stringify(absent.unexpected)}`,
      );
      measured.push({
        storage: env.storage,
        breakers: env.breakers,
        kind,
        n,
        rescued,
        siblings: counted,
        absent,
        ...(geosync ? { geosync } : {}),
        envoy: delta(envoyBefore, envoyAfter),
      });
    }
    // One baseline for the three: the first image, replicated into B and pulled there.
    const first = images[0] as HerdImage;
    await env.replicate(first.repository, [first.manifestDigest, ...first.blobs]);
    const localBefore = machineCpuSeconds();
    const local = await runHerd(ctx, env.b.url, first, n);
    const machineLocal = machineCpuSeconds() - localBefore;
    ctx.log(`  ${env.storage} herd ${n}, replicated: p99 ${ms(local.latency.p99Ms)}`);
    for (const [i, m] of measured.entries()) {
      rows.push({ ...m, local, machineCpu: { rescued: machineRescued[i] as number, local: machineLocal } });
    }
  }
  return rows;
}

/** Counter by counter, after − before (only those that moved). */
function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );
}

/** geosync's lookups and the pulls that reached one sibling, in a few words. */
function siblingText(s: SiblingCount): string {
  const r = s.registry;
  const lookups = s.storage ? `storage ${s.storage.text}` : `${r.lookups} API lookups`;
  return `${lookups}, ${r.pulls} pulls crossed${r.pullsNotFound ? ` (${r.pullsNotFound} answered 404)` : ''}`;
}

/** geosync's requests to one sibling for a row, as the table states them. */
function lookupsText(r: HerdRow, s: SiblingCount): string {
  if (r.kind === 'retry') return 'none (no geosync)';
  if (s.storage) return `storage: ${s.storage.text}`;
  return `registry: ${s.registry.lookups} (≤ ${s.registry.lookupsPerKeyMax} per request target)`;
}

function crossedText(s: SiblingCount): string {
  const r = s.registry;
  return `${r.pulls}${r.pullsNotFound ? ` (${r.pullsNotFound} answered 404)` : ''}`;
}

/** Everything geosync or the retry sent to a and c for one absent-tag herd. */
function absentText(r: HerdRow): string {
  const total = (s: SiblingCount) =>
    String((s.storage?.requests ?? 0) + s.registry.lookups + s.registry.pulls);
  return `${total(r.absent.siblings.a)} / ${total(r.absent.siblings.c)}`;
}

export function herdPart(
  ctx: BenchContext,
  rows: readonly HerdRow[],
  pushes: readonly PushCheck[],
  secondsTaken: number,
): PartResult {
  const s = ctx.scale.herd;
  const name = (r: HerdRow) => `${r.n} on ${r.storage}, ${r.kind}`;
  const failed = rows.filter((r) => r.rescued.failedRequests > 0);
  const storageRows = rows.filter((r) => r.kind === 'storage');
  const multi = storageRows.filter(
    (r) => (r.siblings.a.storage?.worst ?? 0) > 1 || (r.siblings.c.storage?.worst ?? 0) > 1,
  );
  const absentWrong = rows.filter((r) => Object.keys(r.absent.unexpected).length > 0);
  const targets: Target[] = [
    {
      text: 'storage lookups: storage requests per region per key: 1',
      met: multi.length === 0,
      ...(multi.length
        ? {
            note: `more in ${multi.map((r) => `${name(r)} (a ${num(r.siblings.a.storage?.worst ?? NaN)}, c ${num(r.siblings.c.storage?.worst ?? NaN)})`).join(', ')}`,
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
    {
      text: 'a tag no region holds: every client answered 404',
      met: absentWrong.length === 0,
      ...(absentWrong.length
        ? { note: absentWrong.map((r) => `${name(r)}: ${JSON.stringify(r.absent.unexpected)}`).join('; ') }
        : {}),
    },
  ];
  // The chart: Swift S3's herd and the largest on the filesystem, each way and replicated.
  const charted = rows.filter(
    (r) => r.n === Math.max(...rows.filter((x) => x.storage === r.storage).map((x) => x.n)),
  );
  const places = [...new Set(charted.map((r) => r.storage))];
  const short = (r: HerdRow) => `${r.n} on ${r.storage === 'Swift S3' ? 'S3' : 'fs'}`;
  const groupOf = (r: HerdRow, k: number) => places.indexOf(r.storage) * (LOOKUP_KINDS.length + 1) + k;
  const series: QuantileSeries[] = charted.flatMap((r) => [
    {
      label: `${short(r)}, ${r.kind}`,
      distribution: distribution(r.rescued.latenciesMs),
      group: groupOf(r, LOOKUP_KINDS.indexOf(r.kind)),
    },
    ...(r.kind === LOOKUP_KINDS[0]
      ? [
          {
            label: `${short(r)}, replicated`,
            distribution: distribution(r.local.latenciesMs),
            group: groupOf(r, LOOKUP_KINDS.length),
            dashed: true,
          },
        ]
      : []),
  ]);
  const withoutSamples = rows.map(({ rescued, local, ...r }) => ({
    ...r,
    rescued: { ...rescued, latenciesMs: undefined },
    local: { ...local, latenciesMs: undefined },
  }));
  return {
    part: 3,
    title: "Herd: N clients pull one new image from B at once (geosync's two kinds of lookup, Envoy's retry)",
    method:
      `N clients pull an image (manifest by tag, config, ${s.layerSizes.length} layer(s) of ` +
      `${s.layerSizes.map((x) => bytes(x)).join(' and ')}) pushed to A a moment before: a vegeta burst ` +
      `of N manifest GETs, then one of N × ${1 + s.layerSizes.length} blob GETs, N in flight; RTT ` +
      `${s.rttMs} ms. Three ways, each with an image of its own: through B's Envoy (geosync, storage ` +
      "lookups), through D's (B's twin: geosync, registry API lookups of a and c) and through an Envoy " +
      "in front of B's registry that retries each 404 on a, then c (no geosync). Then N clients at once " +
      'GET a tag no region holds, through each. Baseline ("local"): the first herd again after ' +
      "replication copied its image into B. geosync's storage requests: Swift's access log per key on " +
      'Swift S3; geosync_probes_total per lookup target on the filesystem (see the notes for why the large ' +
      "herds run there). Requests at a's and c's registries: their access logs (geosync's API lookups " +
      'by its User-Agent; every other request is a pull that crossed regions).',
    table: {
      header: [
        'storage',
        'pulls',
        'lookup',
        'failed requests',
        "geosync's requests to a (holds it)",
        'to c (does not)',
        "pulls that reached a's registry",
        "c's",
        'p50 rescued',
        'p50 local',
        'ratio',
        'p99 rescued',
        'p99 local',
        'ratio',
        'herd time',
        'local',
        'ratio',
        'geosync RSS peak / idle',
        'geosync CPU (share of one core)',
        'machine CPU, rescued / local (busy)',
        'tag nowhere × N: requests to a / c',
        'tag nowhere: p50 / p99',
      ],
      rows: rows.map((r) => [
        r.storage,
        String(r.n),
        r.kind,
        String(r.rescued.failedRequests),
        lookupsText(r, r.siblings.a),
        lookupsText(r, r.siblings.c),
        crossedText(r.siblings.a),
        crossedText(r.siblings.c),
        ms(r.rescued.latency.p50Ms),
        ms(r.local.latency.p50Ms),
        times(ratio(r.rescued.latency.p50Ms, r.local.latency.p50Ms)),
        ms(r.rescued.latency.p99Ms),
        ms(r.local.latency.p99Ms),
        times(ratio(r.rescued.latency.p99Ms, r.local.latency.p99Ms)),
        seconds(r.rescued.wallMs),
        seconds(r.local.wallMs),
        times(ratio(r.rescued.wallMs, r.local.wallMs)),
        r.geosync ? `${bytes(r.geosync.peakRss)} / ${bytes(r.geosync.idleRss)}` : 'n/a',
        r.geosync
          ? `${num(r.geosync.cpuSeconds)} s (${Math.round((100 * r.geosync.cpuSeconds * 1000) / r.rescued.wallMs)} %)`
          : 'n/a',
        `${num(r.machineCpu.rescued)} s / ${num(r.machineCpu.local)} s = ${times(ratio(r.machineCpu.rescued, r.machineCpu.local))} ` +
          `(${busy(r.machineCpu.rescued, r.rescued.wallMs)} / ${busy(r.machineCpu.local, r.local.wallMs)})`,
        absentText(r),
        `${ms(r.absent.latency.p50Ms)} / ${ms(r.absent.latency.p99Ms)}`,
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
      "Every pull that B's registry cannot answer crosses to a, whichever way: geosync's redirect and " +
        "Envoy's retry both carry the pull itself there. What differs is what else crosses: geosync's " +
        "lookups (coalesced: at most one per key per region per worker, then cached) against Envoy's " +
        'retry of every 404, genuine misses and pushes included ("tag nowhere": each client\'s 404 is ' +
        'retried on a and then on c; geosync asks each sibling about the tag once per worker and ' +
        'caches the answer).',
      ...pushes.map(
        (p) =>
          `${p.storage}, push into B of a ${p.image} image, ${LOOKUP_LABEL[p.kind]}: ${p.outcome} ` +
          `(${Math.round(p.ms)} ms); requests at a's registry ${JSON.stringify(p.a.byKind)}, at c's ${JSON.stringify(p.c.byKind)}.`,
      ),
      ...herdNotes(rows),
    ],
    data: { rows: withoutSamples, pushes },
    panels: [
      {
        kind: 'quantiles',
        title: '3 · herd from B: every request, geosync (storage, registry) or retry vs replicated',
        series,
      },
    ],
    seconds: secondsTaken,
  };
}

/** Share of the machine's cores kept busy over `wallMs`. */
function busy(cpuSeconds: number, wallMs: number): string {
  return `${Math.round((100 * cpuSeconds * 1000) / (wallMs * os.availableParallelism()))} %`;
}

function herdNotes(rows: readonly HerdRow[]): string[] {
  const name = (r: HerdRow) => `${r.n} on ${r.storage}, ${r.kind}`;
  return rows.map((r) => {
    const e = r.envoy;
    const failOpen = e.failureModeAllowed
      ? ` Envoy let ${e.failureModeAllowed} 404s through unanswered (failure_mode_allow): ` +
        `${e.messageTimeouts ?? 0} because geosync's reply came after the ext_proc message_timeout, ` +
        `${Math.max(0, (e.failureModeAllowed ?? 0) - (e.messageTimeouts ?? 0))} for other reasons ` +
        '(the ext_proc stream could not be opened or failed).'
      : '';
    const g = r.geosync?.snapshot;
    return (
      `${name(r)}: ` +
      (g
        ? `geosync decided ${JSON.stringify(g.decisions)} in ${g.lookups} lookups, ${g.coalesced} of which joined one in flight; `
        : '') +
      `its Envoy: ${JSON.stringify(e)}.${failOpen}` +
      ` The tag nowhere: ${JSON.stringify(r.absent.unexpected)} besides 404s; its Envoy: ${JSON.stringify(r.absent.envoy)}.`
    );
  });
}
