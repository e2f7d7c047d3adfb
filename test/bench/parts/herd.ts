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
 * has copied the image into B, so B answers every request itself. herd-report.ts makes the table.
 */
import path from 'node:path';
import { createOciImage } from '../../support/oci/oci-image';
import { sleep } from '../../support/process';
import { skopeoPush } from '../../support/clients/skopeo';
import type { BenchContext } from '../context';
import { bytes, ms } from '../results';
import { LOOKUP_KINDS, type Front, type LookupKind } from '../stack/fronts';
import type { HerdEnv, StorageCount } from '../stack/herd-env';
import { envoyCounters, geosyncSnapshot, snapshotDelta, type GeosyncSnapshot } from '../tools/observe';
import { cpuSeconds, machineCpuSeconds, rssBytes, sampleRss } from '../tools/process-memory';
import { countRegistryRequests, type RegistryRequests } from '../tools/registry-requests';
import { runAbsentHerd, runHerd, type AbsentRun, type HerdImage, type HerdRun } from './herd-run';

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
const settleQuietMs = (ctx: BenchContext) => (ctx.scale.name === 'smoke' ? 250 : 3000);

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
      await sleep(Math.min(1000, settleQuietMs(ctx)));
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
