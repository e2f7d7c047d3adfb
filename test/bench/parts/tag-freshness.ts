/**
 * Part 7, what `freshness.tagMaxStalenessMs` costs (issue 12): the latency of a manifest GET by tag
 * that the local registry answers 200, in a region with the option on versus one with it off,
 * in the same deployment (three regions on Swift S3; region b on with T = FRESHNESS_T_MS, region c
 * off; both hold the same replicated tags).
 *
 * - Cache miss: every GET is of a tag nobody asked for before (the same manifest under many
 *   tags), so b's geosync reads storage for each one: the siblings' `current/link` objects across
 *   the emulated WAN, in parallel (src/tag-freshness/check.ts; the tag index keys only where a
 *   sibling's digest differs, which none does here).
 * - Cache hit: the same tag again and again, answered from the cache for T.
 * Off, the ext_proc matcher skips the filter for every 200 (envoy/README.md), so region c's GET is
 * Envoy + registry alone. The two sides alternate which goes first (A B, B A, …); a pair is one GET
 * of the same tag from each side, and ratios are the medians of the per-pair ratios. geosync's own
 * counters tell whether each miss really was a miss.
 */
import path from 'node:path';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { createOciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { MANIFEST_ACCEPT, elapsedSeconds, type BenchContext } from '../context';
import { ms, num, timesRange, type PartResult, type QuantileSeries, type Target } from '../results';
import { startS3Stack, type S3Stack } from '../stack/s3-stack';
import { geosyncMetrics, replicateS3, sampleSum } from '../tools/observe';
import { measurePaired, type PairedCase } from '../tools/paired';
import { distribution, summarize } from '../tools/stats';

const REPOSITORY = 'bench/fresh';
/** b's freshness bound: longer than the part runs, so a hit stays a hit. */
export const FRESHNESS_T_MS = 600_000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The stack of this part and part 8: parts 2-4's, with tag freshness on in region b only, and tag
 * lists off in region c only (b keeps their default, as a new user has it).
 */
export function startFreshnessStack(lookupTimeoutMs?: number, workers?: number): Promise<S3Stack> {
  return startS3Stack({
    tagMaxStalenessMs: { b: FRESHNESS_T_MS },
    tagListMaxStalenessMs: { c: 0 },
    ...(lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs }),
    ...(workers === undefined ? {} : { workers }),
  });
}

/** One GET of a manifest by tag: its time, and the digest it answered (to check each side agrees). */
async function getTag(region: RegionDeployment, tag: string): Promise<{ ms: number; digest: string }> {
  const t = performance.now();
  const res = await fetch(`${region.url}/v2/${REPOSITORY}/manifests/${tag}`, {
    headers: MANIFEST_ACCEPT,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await res.arrayBuffer();
  const took = performance.now() - t;
  if (res.status !== 200) throw new Error(`GET ${tag} from ${region.name} answered ${res.status}`);
  return { ms: took, digest: res.headers.get('docker-content-digest') ?? '' };
}

/** Puts the manifest that `from` holds under `tag` (the registry API: PUT of the same bytes). */
async function tagAgain(region: RegionDeployment, from: string, tag: string): Promise<void> {
  const got = await fetch(`${region.url}/v2/${REPOSITORY}/manifests/${from}`, {
    headers: MANIFEST_ACCEPT,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`${region.url}/v2/${REPOSITORY}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': got.headers.get('content-type') ?? '' },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`PUT ${tag} into ${region.name} answered ${put.status}`);
}

type Case = PairedCase<'miss' | 'hit'>;

export async function tagFreshness(ctx: BenchContext, stack: S3Stack): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.freshness;
  const { a, b, c } = stack;
  if (!stack.d.swift) throw new Error('part 7 needs the S3 stack');
  stack.setRttMs(s.rttMs);

  // The same manifest under tag t0 … t<misses>, in a, then replicated to b and c: every region
  // agrees on every tag, so each check finds the local tag fresh and b answers its own 200.
  const image = createOciImage(path.join(ctx.tmp, 'fresh'), { tag: 't0', layerSizes: [1024] });
  await skopeoPush(image.dir, 't0', { host: a.host, repository: REPOSITORY });
  const missTags = Array.from({ length: s.misses + s.warmup }, (_, i) => `t${i + 1}`);
  for (const tag of missTags) await tagAgain(a, 't0', tag);
  const digests = [image.manifestDigest, image.configDigest, ...image.layerDigests];
  for (const to of [b, c]) await replicateS3(stack.s3, a, to, REPOSITORY, digests);

  const metrics = async () => {
    const text = await geosyncMetrics(b);
    return {
      rounds: sampleSum(text, 'geosync_tag_freshness_storage_rounds_total'),
      fresh: sampleSum(text, 'geosync_tag_freshness_checks_total', { geosync_result: 'fresh' }),
      checks: sampleSum(text, 'geosync_tag_freshness_checks_total'),
    };
  };

  const wrongDigests: string[] = [];
  const measure = (name: Case['name'], tags: readonly string[]): Promise<Case> =>
    measurePaired(name, tags, { on: b, off: c }, async (side, tag) => {
      const r = await getTag(side, tag);
      if (r.digest !== image.manifestDigest) wrongDigests.push(`${side.name} ${tag}: ${r.digest}`);
      return r.ms;
    });

  // Warm-up: connections, code paths, and t0 into b's cache for the hits.
  for (const tag of ['t0', ...missTags.slice(0, s.warmup)]) {
    await getTag(b, tag);
    await getTag(c, tag);
  }
  const beforeMiss = await metrics();
  const miss = await measure('miss', missTags.slice(s.warmup));
  const afterMiss = await metrics();
  const hit = await measure(
    'hit',
    Array.from({ length: s.hits }, () => 't0'),
  );
  const afterHit = await metrics();

  const roundsPerMiss = (afterMiss.rounds - beforeMiss.rounds) / s.misses;
  const roundsDuringHits = afterHit.rounds - afterMiss.rounds;
  const checks = afterHit.checks - beforeMiss.checks;
  const freshChecks = afterHit.fresh - beforeMiss.fresh;
  const cases = [miss, hit];
  const row = (x: Case) => {
    const on = summarize(x.onMs);
    const off = summarize(x.offMs);
    const added = summarize(x.addedMs);
    return [
      x.name === 'miss' ? 'cache miss (a new tag each GET)' : 'cache hit (the same tag)',
      String(x.onMs.length),
      ms(on.p50Ms),
      ms(off.p50Ms),
      timesRange(x.ratio),
      ms(on.p99Ms),
      ms(off.p99Ms),
      ms(added.p50Ms),
    ];
  };
  const missAdded = summarize(miss.addedMs).p50Ms;
  ctx.log(
    `  miss: +${num(missAdded)} ms per GET (${timesRange(miss.ratio)}); hit: ${timesRange(hit.ratio)}; ` +
      `storage rounds per miss ${num(roundsPerMiss)}, during hits ${roundsDuringHits}`,
  );
  const targets: Target[] = [
    {
      // What the part must show to be believed: misses were misses and hits were hits.
      text: 'validity: each miss read storage once, no hit read it',
      met: roundsPerMiss === 1 && roundsDuringHits === 0,
      note: `storage rounds per miss ${num(roundsPerMiss)}, during the hits ${roundsDuringHits}`,
    },
    {
      text: 'validity: every GET on both sides answered 200 with the pushed digest',
      met: wrongDigests.length === 0 && freshChecks === checks,
      ...(wrongDigests.length || freshChecks !== checks
        ? {
            note: `wrong digests: ${wrongDigests.slice(0, 3).join(', ')}; checks ${checks}, fresh ${freshChecks}`,
          }
        : {}),
    },
  ];
  const panel = {
    kind: 'quantiles' as const,
    title: '7 · manifest GET by tag (200): freshness on vs off',
    series: cases.flatMap((x, i): QuantileSeries[] => [
      { label: `on, ${x.name}`, distribution: distribution(x.onMs), group: i },
      { label: `off (${x.name} run)`, distribution: distribution(x.offMs), group: i, dashed: true },
    ]),
  };
  return {
    part: 7,
    title: 'Tag freshness: a tag GET with `freshness.tagMaxStalenessMs` on vs off',
    method:
      'Three regions on Swift S3 with every link between regions (registry and storage) delayed to a ' +
      `${s.rttMs} ms round trip. Region b runs with \`freshness.tagMaxStalenessMs\` = ` +
      `${FRESHNESS_T_MS / 1000} s, region c without; both hold the same replicated tags, so b's check ` +
      'finds each tag fresh and serves its own 200. One GET of a manifest by tag at a time from this ' +
      "process (keep-alive), b and c alternating which goes first. Misses: a tag b's geosync never " +
      `checked (${s.misses} tags of the same manifest); hits: one tag, ${s.hits} times, within T. ` +
      'Ratio: the median of the per-pair ratios on / off, their range in brackets; "added": the ' +
      'median of on − off per pair.',
    table: {
      header: ['GET by tag', 'GETs', 'p50 on', 'p50 off', 'ratio', 'p99 on', 'p99 off', 'added (median)'],
      rows: cases.map(row),
    },
    targets,
    notes: [
      `a miss costs ${num(roundsPerMiss)} storage round (a GetObject of each sibling's current/link, ` +
        `${s.rttMs} ms away, in parallel; the index keys are read only where a sibling's digest differs, ` +
        'which none does here), so it adds about one storage round trip; a hit adds only the ext_proc ' +
        'exchange with geosync.',
      `geosync counted ${checks} tag checks during the measured GETs, ${freshChecks} of them fresh.`,
    ],
    data: {
      rttMs: s.rttMs,
      tMs: FRESHNESS_T_MS,
      roundsPerMiss,
      roundsDuringHits,
      checks,
      freshChecks,
      /** GETs answered with another digest than the pushed one (either side). */
      wrongDigests: wrongDigests.length,
      cases: cases.map((x) => ({
        name: x.name,
        gets: x.onMs.length,
        ratio: x.ratio,
        on: summarize(x.onMs),
        off: summarize(x.offMs),
        added: summarize(x.addedMs),
      })),
    },
    panels: [panel],
    seconds: elapsedSeconds(started),
  };
}
