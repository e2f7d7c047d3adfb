/**
 * Part 3's report: the herds of herd.ts, the tag-nowhere herds and push-checks.ts's pushes as one
 * table, its targets and notes.
 */
import os from 'node:os';
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
import { LOOKUP_KINDS, LOOKUP_LABEL } from '../stack/fronts';
import { distribution, ratio } from '../tools/stats';
import type { HerdRow, SiblingCount } from './herd';
import type { PushCheck } from './push-checks';

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
