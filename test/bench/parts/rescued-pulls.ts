/**
 * Part 2, rescued pulls: a whole image pull (manifest, config, layers; several sizes) by skopeo in
 * region B of content only a sibling holds, versus the same kind of pull straight from the holder's
 * Envoy across the same emulated WAN, at each round-trip time. A client in B pulls three ways
 * (stack/fronts.ts): through geosync with storage lookups (B), through geosync with registry-API
 * lookups (D, B's twin), and through an Envoy that retries each 404 on the siblings in a fixed
 * order, a then c (no geosync). Every pull is of an image nobody pulled before (new random layers),
 * so every lookup is a cold one; the four sides take turns going first. A holds the image at every
 * size; c holds it (the second sibling in the retry's order) at the smallest size.
 *
 * Target (issues 14 and 18): rescued ≤ 1.1 × direct + the pull's lookup time, for each kind of
 * lookup. Since the manifest's contents answer the config and layers (locate.manifestContents), a
 * rescued pull makes one lookup that reaches the siblings (the manifest's) and answers the rest
 * from memory, so the lookup time added is the pull's: geosync's mean lookup time over these pulls
 * × lookups per pull (geosync_lookup_duration_seconds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { elapsedSeconds, type BenchContext } from '../context';
import { ms, times, type PartResult, type PointSeries, type Target } from '../results';
import { LOOKUP_KINDS, LOOKUP_LABEL, type Front, type LookupKind } from '../stack/fronts';
import type { S3Stack } from '../stack/s3-stack';
import { geosyncSnapshot, snapshotDelta, type GeosyncSnapshot } from '../tools/observe';
import { timedPull } from '../tools/pull';
import { median, ratio } from '../tools/stats';

const TARGET_FACTOR = 1.1;
type Side = 'direct' | LookupKind;
const SIDES: readonly Side[] = ['direct', ...LOOKUP_KINDS];
/** The regions whose geosync decides for a kind of lookup (fronts.ts). */
const GEOSYNC_KINDS = ['storage', 'registry'] as const;

interface Case {
  readonly rttMs: number;
  readonly size: string;
  /** The only region holding the image. */
  readonly holder: 'a' | 'c';
  readonly requestsPerPull: number;
  readonly ms: Readonly<Record<Side, number[]>>;
  /** geosync's lookups, per kind: mean time, per pull, its decisions. */
  readonly lookups: Readonly<
    Record<
      (typeof GEOSYNC_KINDS)[number],
      {
        readonly meanMs: number;
        readonly perPull: number;
        readonly decisions: Readonly<Record<string, number>>;
      }
    >
  >;
  /** B's own registry answering a 404 for content only the holder has (median, asked directly). */
  readonly localAnswerMs: number;
  /** Pulls that failed, with skopeo's last words; they have no time above. */
  readonly failed: readonly string[];
}

export async function rescuedPulls(ctx: BenchContext, stack: S3Stack): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.rescued;
  const fronts = stack.fronts;
  if (!fronts) throw new Error('part 2 needs the stack started with its fronts');
  const holders: Record<'a' | 'c', RegionDeployment> = { a: stack.a, c: stack.c };
  const cases: Case[] = [];
  let turn = 0;
  for (const rtt of s.rttsMs) {
    stack.setRttMs(rtt);
    const plan = [
      ...s.sizes.map((size, si) => ({ size, si, holder: 'a' as const })),
      ...s.sizes.slice(0, 1).map((size, si) => ({ size, si, holder: 'c' as const })),
    ];
    for (const { size, si, holder } of plan) {
      const before = await snapshots(fronts.all);
      const times: Record<Side, number[]> = { direct: [], storage: [], registry: [], retry: [] };
      const failed: string[] = [];
      const hostOf = (side: Side) =>
        side === 'direct' ? new URL(holders[holder].crossRegion.url).host : fronts.of(side).host;
      for (let i = 0; i < s.pairs; i++) {
        const dir = fs.mkdtempSync(path.join(ctx.tmp, `rescued-${rtt}-${si}-${holder}-`));
        const image = createOciImage(path.join(dir, 'image'), { tag: 'v1', layerSizes: size.layerSizes });
        const repository = `bench/rescued-${rtt}-${si}-${holder}-${i}`;
        await skopeoPush(image.dir, 'v1', { host: holders[holder].host, repository }, { timeoutMs: 300_000 });
        const src = { repository, reference: 'v1' };
        // Each side goes first as often as the others, across the run.
        const order = SIDES.map((_, k) => SIDES[(k + turn) % SIDES.length] as Side);
        turn++;
        for (const side of order) {
          try {
            times[side].push(await timedPull(hostOf(side), src, image.manifestDigest, dir));
          } catch (err) {
            const m = (err as Error).message;
            failed.push(`${side}: ${/msg="([^"]+)"/.exec(m)?.[1] ?? m.split('\n')[0]}`);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const after = await snapshots(fronts.all);
      const lookupOf = (kind: (typeof GEOSYNC_KINDS)[number]) => {
        const delta = snapshotDelta(before[kind] as GeosyncSnapshot, after[kind] as GeosyncSnapshot);
        return {
          meanMs: delta.lookups > 0 ? (delta.lookupSeconds / delta.lookups) * 1000 : NaN,
          perPull: delta.lookups / s.pairs,
          decisions: Object.fromEntries(Object.entries(delta.decisions).filter(([, v]) => v > 0)),
        };
      };
      const c: Case = {
        rttMs: rtt,
        size: size.label,
        holder,
        requestsPerPull: 2 + size.layerSizes.length,
        ms: times,
        lookups: { storage: lookupOf('storage'), registry: lookupOf('registry') },
        localAnswerMs: await localNotFoundMs(stack.b.registry.url, `bench/rescued-${rtt}-${si}-${holder}-0`),
        failed,
      };
      ctx.log(
        `  rtt ${rtt} ms, ${size.label} in ${holder}: ` +
          SIDES.map((side) => `${side} ${ms(median(times[side]))}`).join(', ') +
          `; lookups ${JSON.stringify(c.lookups)}` +
          (failed.length ? `, FAILED: ${failed.join('; ')}` : ''),
      );
      cases.push(c);
    }
  }
  return partResult(ctx, cases, elapsedSeconds(started));
}

async function snapshots(fronts: readonly Front[]): Promise<Partial<Record<LookupKind, GeosyncSnapshot>>> {
  const out: Partial<Record<LookupKind, GeosyncSnapshot>> = {};
  for (const f of fronts) if (f.region) out[f.kind] = await geosyncSnapshot(f.region, ['a', 'c']);
  return out;
}

function partResult(ctx: BenchContext, cases: readonly Case[], secondsTaken: number): PartResult {
  const s = ctx.scale.rescued;
  const rows = cases.map((c) => {
    const direct = median(c.ms.direct);
    const of = (kind: LookupKind) => median(c.ms[kind]);
    const bound = (kind: (typeof GEOSYNC_KINDS)[number]) =>
      TARGET_FACTOR * direct + c.lookups[kind].meanMs * c.lookups[kind].perPull;
    const ok = (kind: (typeof GEOSYNC_KINDS)[number]) => of(kind) <= bound(kind);
    return { c, direct, of, bound, ok };
  });
  const name = (c: Case) => `${c.size} in ${c.holder} at ${c.rttMs} ms`;
  const targets: Target[] = GEOSYNC_KINDS.map((kind) => {
    const misses = rows.filter((r) => !r.ok(kind)).map((r) => name(r.c));
    return {
      text: `${LOOKUP_LABEL[kind]}: rescued pull ≤ ${TARGET_FACTOR} × direct pull + the pull's lookup time (medians)`,
      met: misses.length === 0,
      ...(misses.length ? { note: `above in ${misses.join(', ')}` } : {}),
    };
  });
  const failedPulls = cases.flatMap((c) => c.failed.map((f) => `${name(c)}, ${f}`));
  const categories = cases.map((c) => `${c.size} in ${c.holder}, ${c.rttMs} ms`);
  const series: PointSeries[] = [
    ...LOOKUP_KINDS.map((kind, group) => ({
      label: LOOKUP_LABEL[kind],
      group,
      samples: cases.map((c) => c.ms[kind]),
    })),
    {
      label: 'direct from the holder',
      group: LOOKUP_KINDS.length,
      dashed: true,
      samples: cases.map((c) => c.ms.direct),
    },
  ];
  const lookupTime = (c: Case, kind: (typeof GEOSYNC_KINDS)[number]) =>
    ms(c.lookups[kind].meanMs * c.lookups[kind].perPull);
  return {
    part: 2,
    title:
      'Rescued pulls: from B through geosync (storage or registry API lookups) or Envoy retry vs straight from the holder',
    method:
      `skopeo copies the whole image (manifest by tag, config, layers; ${s.pairs} pulls per side, ` +
      'each of an image pushed to the holder just before and never pulled) into an OCI layout. ' +
      "Sides: from B's Envoy, where every request is a local 404 that geosync redirects to the holder " +
      "after looking a and c up in their storage; from D's Envoy (B's twin: distribution on its own " +
      'bucket, the same siblings) whose geosync looks them up through their registry API; from an ' +
      "Envoy in front of B's registry that retries each 404 on a, then c (`retry_policy` on 404 with " +
      'an aggregate cluster and `previous_priorities`, no geosync); "direct": from the holder\'s Envoy ' +
      'through the same delaying link a client in B would cross. Every cross-region hop (Envoy → ' +
      "Envoy, geosync → S3 or → the sibling's Envoy) is delayed by half the round-trip time each way. " +
      "a holds the image at every size; c (second in the retry's order) holds it at the smallest.",
    table: {
      header: [
        'image',
        'holder',
        'RTT',
        'direct (median)',
        'storage lookups (B)',
        'ratio',
        'registry API lookups (D)',
        'ratio',
        'Envoy retry',
        'ratio',
        'lookup time per pull, storage / API',
        'lookups per pull, storage / API',
        "B's local 404 (median)",
        'target, storage / API',
        'failed pulls',
      ],
      rows: rows.map((r) => [
        r.c.size,
        r.c.holder,
        `${r.c.rttMs} ms`,
        ms(r.direct),
        ms(r.of('storage')),
        times(ratio(r.of('storage'), r.direct)),
        ms(r.of('registry')),
        times(ratio(r.of('registry'), r.direct)),
        ms(r.of('retry')),
        times(ratio(r.of('retry'), r.direct)),
        `${lookupTime(r.c, 'storage')} / ${lookupTime(r.c, 'registry')}`,
        `${r.c.lookups.storage.perPull} / ${r.c.lookups.registry.perPull}`,
        ms(r.c.localAnswerMs),
        GEOSYNC_KINDS.map((k) => (r.ok(k) ? 'met' : 'MISSED')).join(' / '),
        String(r.c.failed.length),
      ]),
    },
    targets,
    notes: [
      ...(failedPulls.length ? [`failed pulls (not in the times): ${failedPulls.join('; ')}.`] : []),
      ...GEOSYNC_KINDS.map(
        (kind) => `geosync's decisions, ${LOOKUP_LABEL[kind]}: ${JSON.stringify(sumDecisions(cases, kind))}.`,
      ),
      'skopeo makes its requests in three dependent steps (the manifest, then the layers in ' +
        "parallel, then the config), and each step's requests first get the local registry's 404 " +
        "(\"B's local 404\": the same GETs asked of B's registry directly after the pulls). geosync's " +
        "manifest lookup asks every sibling at once, and the layers' and config's lookups are answered " +
        "from the manifest's contents, read in the holder as soon as it is found. Envoy's retry asks no " +
        'one: each 404 is retried on a, and on a 404 there on c, each a request across the link; it ' +
        'carries the pull itself, so it adds nothing when a holds the image and a round trip per ' +
        'request when only c does.',
      "The emulated link delays bytes but not TCP's handshake, so the direct pull's new " +
        "connections cost no round trip here (B's Envoy reuses pooled ones): on a real WAN the " +
        'direct side would pay a little more.',
    ],
    data: { cases },
    panels: [
      {
        kind: 'points',
        title: '2 · whole-image pulls from B: geosync (storage, registry API), Envoy retry, direct',
        categories,
        series,
      },
    ],
    seconds: secondsTaken,
  };
}

/**
 * What B's own registry takes to answer the 404s a rescued pull meets first (a manifest by tag
 * and a blob only A holds), asked of it directly: Envoy records no upstream time for a response
 * its ext_proc filter turned into an internal redirect.
 */
async function localNotFoundMs(registryUrl: string, repository: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const path = i % 2 === 0 ? `manifests/absent-${i}` : `blobs/sha256:${i.toString(16).padStart(64, '0')}`;
    const t = performance.now();
    const res = await fetch(`${registryUrl}/v2/${repository}/${path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (res.status === 404) samples.push(performance.now() - t);
  }
  return samples.length ? median(samples) : NaN;
}

function sumDecisions(cases: readonly Case[], kind: (typeof GEOSYNC_KINDS)[number]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cases) {
    for (const [k, v] of Object.entries(c.lookups[kind].decisions)) if (v) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}
