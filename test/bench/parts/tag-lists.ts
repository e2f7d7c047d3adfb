/**
 * Part 8, what the tag-list union costs (issue 22): `GET /v2/<name>/tags/list` of a repository
 * every region holds alike, so the union adds nothing, in region b (tag lists at their default,
 * `freshness.tagListMaxStalenessMs` 1 s) versus region c (0: off, the route a plain pass-through),
 * in part 7's deployment (three regions on Swift S3, every link between regions delayed).
 *
 * - First list of a repository: b's geosync lists each sibling's tag folder (ListObjectsV2, across
 *   the emulated WAN, in parallel) besides the ext_proc exchange with the body.
 * - The same repository again and again at the default bound: mostly answered from the cache,
 *   one listing per second.
 * b and c alternate which goes first; ratios are the medians of the per-pair ratios.
 */
import path from 'node:path';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { createOciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { elapsedSeconds, type BenchContext } from '../context';
import { ms, num, timesRange, type PartResult, type QuantileSeries, type Target } from '../results';
import type { S3Stack } from '../stack/s3-stack';
import { geosyncMetrics, sampleSum } from '../tools/observe';
import { measurePaired, type PairedCase } from '../tools/paired';
import { distribution, summarize } from '../tools/stats';

const BASE = 'bench/lists-base';
const TAGS = ['t0', 't1', 't2', 'v1'];
const REQUEST_TIMEOUT_MS = 10_000;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

async function ok(res: Promise<Response>, what: string, status: number): Promise<void> {
  const r = await res;
  await r.arrayBuffer();
  if (r.status !== status) throw new Error(`${what} answered ${r.status}`);
}

/** `repository` in `region`'s registry, with the base image's blobs mounted and every tag of TAGS. */
async function holdAlike(
  region: RegionDeployment,
  repository: string,
  manifest: Buffer,
  blobs: readonly string[],
) {
  const base = region.registry.url;
  const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  for (const digest of blobs) {
    await ok(
      fetch(`${base}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${BASE}`, {
        method: 'POST',
        signal: signal(),
      }),
      `mount ${digest} into ${region.name}/${repository}`,
      201,
    );
  }
  for (const tag of TAGS) {
    await ok(
      fetch(`${base}/v2/${repository}/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': MANIFEST_TYPE },
        body: manifest,
        signal: signal(),
      }),
      `PUT ${region.name}/${repository}:${tag}`,
      201,
    );
  }
}

async function list(region: RegionDeployment, repository: string): Promise<{ ms: number; tags: string }> {
  const t = performance.now();
  const res = await fetch(`${region.url}/v2/${repository}/tags/list`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.text();
  const took = performance.now() - t;
  if (res.status !== 200)
    throw new Error(`tags/list of ${repository} from ${region.name} answered ${res.status}`);
  return { ms: took, tags: ((JSON.parse(body) as { tags: string[] }).tags ?? []).join(',') };
}

type Case = PairedCase<'first' | 'repeat'>;

export async function tagLists(ctx: BenchContext, stack: S3Stack): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.tagLists;
  const { a, b, c } = stack;
  stack.setRttMs(s.rttMs);

  // Every region holds every repository with the same tags (as after replication).
  const image = createOciImage(path.join(ctx.tmp, 'lists'), { tag: 'v1', layerSizes: [1024] });
  for (const region of [a, b, c])
    await skopeoPush(image.dir, 'v1', { host: region.registry.host, repository: BASE });
  const manifest = (await (
    await fetch(`${a.registry.url}/v2/${BASE}/manifests/v1`, { headers: { accept: MANIFEST_TYPE } })
  ).arrayBuffer()) as ArrayBuffer;
  const repositories = Array.from({ length: s.repositories + s.warmup }, (_, i) => `bench/lists-${i}`);
  for (const repository of repositories)
    for (const region of [a, b, c])
      await holdAlike(region, repository, Buffer.from(manifest), [image.configDigest, ...image.layerDigests]);

  const decisions = async () => {
    const text = await geosyncMetrics(b);
    const of = (outcome: string) =>
      sampleSum(text, 'geosync_decisions_total', { geosync_outcome: outcome, geosync_kind: 'tag_list' });
    return { pass: of('pass'), merged: of('merged'), timeout: of('timeout'), error: of('error') };
  };
  const disagreements: string[] = [];
  const measure = (name: Case['name'], repos: readonly string[]): Promise<Case> =>
    measurePaired(name, repos, { on: b, off: c }, async (side, repository) => {
      const r = await list(side, repository);
      if (r.tags !== TAGS.join(',')) disagreements.push(`${repository} from ${side.name}: ${r.tags}`);
      return r.ms;
    });

  for (const repository of repositories.slice(0, s.warmup)) {
    await list(b, repository);
    await list(c, repository);
  }
  const before = await decisions();
  const first = await measure('first', repositories.slice(s.warmup));
  const repeat = await measure(
    'repeat',
    Array.from({ length: s.repeats }, () => repositories[0] as string),
  );
  const after = await decisions();
  const gets = first.onMs.length + repeat.onMs.length;
  const passed = after.pass - before.pass;
  const cases = [first, repeat];
  const row = (x: Case) => {
    const on = summarize(x.onMs);
    const off = summarize(x.offMs);
    return [
      x.name === 'first'
        ? 'first list of a repository (siblings listed)'
        : 'the same repository again (1 s bound)',
      String(x.onMs.length),
      ms(on.p50Ms),
      ms(off.p50Ms),
      timesRange(x.ratio),
      ms(on.p99Ms),
      ms(off.p99Ms),
      ms(summarize(x.addedMs).p50Ms),
    ];
  };
  ctx.log(
    `  first: +${num(summarize(first.addedMs).p50Ms)} ms (${timesRange(first.ratio)}); ` +
      `repeat: +${num(summarize(repeat.addedMs).p50Ms)} ms (${timesRange(repeat.ratio)})`,
  );
  const targets: Target[] = [
    {
      text: 'validity: both sides listed the same tags, and b decided every list "pass" (nothing to merge)',
      met: disagreements.length === 0 && passed === gets && after.merged === before.merged,
      note: `${disagreements.length} disagreements${disagreements.length ? ` (${disagreements.slice(0, 2).join('; ')})` : ''}; b: ${passed} pass of ${gets} lists, ${after.merged - before.merged} merged, ${after.timeout - before.timeout} timeouts`,
    },
  ];
  return {
    part: 8,
    title: 'Tag lists: a tags/list with the union on (default) vs off, nothing to merge',
    method:
      "Part 7's three regions on Swift S3, every link between regions delayed to a " +
      `${s.rttMs} ms round trip. Region b runs tag lists at the default (\`freshness.tagListMaxStalenessMs\` ` +
      '1 s), region c with 0 (off). Every region holds the same repositories with the same tags, so ' +
      `the union adds nothing. First lists: ${s.repositories} repositories, each listed once from each ` +
      `side; repeats: one repository ${s.repeats} times in a row. b and c alternate which goes first; ` +
      'ratio: the median of the per-pair ratios on / off (range in brackets); "added": the median of ' +
      'on − off per pair.',
    table: {
      header: ['tags/list', 'lists', 'p50 on', 'p50 off', 'ratio', 'p99 on', 'p99 off', 'added (median)'],
      rows: cases.map(row),
    },
    targets,
    notes: [
      'on, every list is one ext_proc exchange carrying the response body (the matcher lets the 200 ' +
        'through, geosync asks for the body and answers it unchanged); the first list of a repository ' +
        "within the bound also lists both siblings' tag folders (one ListObjectsV2 each, in parallel).",
    ],
    data: {
      rttMs: s.rttMs,
      gets,
      passed,
      /** Lists whose tags were not the ones every region holds (either side). */
      disagreements: disagreements.length,
      cases: cases.map((x) => ({
        name: x.name,
        lists: x.onMs.length,
        ratio: x.ratio,
        on: summarize(x.onMs),
        off: summarize(x.offMs),
        added: summarize(x.addedMs),
      })),
    },
    panels: [
      {
        kind: 'quantiles' as const,
        title: '8 · tags/list: union on vs off',
        series: cases.flatMap((x, i): QuantileSeries[] => [
          { label: `on, ${x.name}`, distribution: distribution(x.onMs), group: i },
          { label: `off (${x.name} run)`, distribution: distribution(x.offMs), group: i, dashed: true },
        ]),
      },
    ],
    seconds: elapsedSeconds(started),
  };
}
