/**
 * Part 1, local hits (the common case): manifest and blob GETs the local registry answers 200,
 * through Envoy + geosync versus Envoy alone (the same generated bootstrap without geosync's
 * filter, stack/envoy-alone.ts), in front of the same registry, at several concurrencies.
 *
 * The registry runs on the filesystem driver: the question is what geosync's filter costs Envoy,
 * and the fastest backend here makes that cost the largest share of each request (Swift would
 * hide it behind its own latency). Both Envoys run side by side; each case alternates them
 * (A B B A) so the machine's drift falls on both.
 */
import path from 'node:path';
import { startDeployment } from '../../support/stacks/deployment';
import { ENVOY_STAT } from '../../support/envoy/envoy';
import { createOciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { MANIFEST_ACCEPT, elapsedSeconds, type BenchContext } from '../context';
import { ms, num, times, timesRange, type PartResult, type QuantileSeries, type Target } from '../results';
import { startEnvoyAlone, type EnvoyAlone } from '../stack/envoy-alone';
import { cpuSeconds } from '../tools/process-memory';
import { distribution, median, pairedRatio, summarize, type PairedRatio } from '../tools/stats';
import type { AttackResult, HttpTarget } from '../tools/vegeta';

const REPOSITORY = 'bench/local';
const THROUGHPUT_TARGET = 0.95;
const P99_TARGET = 1.1;

/** One side of a case: its runs, each summarised, and every latency for the chart. */
export interface Side {
  readonly throughputs: number[];
  readonly p50s: number[];
  readonly p99s: number[];
  /** Envoy's own CPU time per request (µs), from /proc: steadier than wall-clock figures on a busy machine. */
  readonly cpuUsPerRequest: number[];
  readonly requests: number;
  readonly failures: number;
  readonly latenciesMs: number[];
}

interface Run {
  readonly result: AttackResult;
  readonly envoyCpuSeconds: number;
}

function side(measured: readonly Run[]): Side {
  const runs = measured.map((m) => m.result);
  const summaries = runs.map((r) => summarize(r.results.map((x) => x.latencyMs)));
  return {
    throughputs: runs.map((r) => r.throughput),
    p50s: summaries.map((x) => x.p50Ms),
    p99s: summaries.map((x) => x.p99Ms),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    failures: runs.reduce((n, r) => n + r.requests - r.successes, 0),
    latenciesMs: runs.flatMap((r) => r.results.map((x) => x.latencyMs)),
    cpuUsPerRequest: measured.map((m) => (m.envoyCpuSeconds * 1e6) / Math.max(1, m.result.requests)),
  };
}

export async function localHits(ctx: BenchContext): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.localHits;
  const d = await startDeployment({
    regions: ['a', 'b'],
    storage: 'filesystem',
    ...(ctx.scale.workers === undefined ? {} : { workers: ctx.scale.workers }),
  });
  let alone: EnvoyAlone | undefined;
  try {
    const a = d.region('a');
    alone = await startEnvoyAlone(a, d.dir);
    const aloneUrl = alone.url;
    const alonePid = alone.envoy.pid;
    const image = createOciImage(path.join(ctx.tmp, 'local-hits'), { tag: 'v1', layerSizes: [s.blobBytes] });
    await skopeoPush(image.dir, 'v1', { host: a.host, repository: REPOSITORY });
    const kinds = [
      { kind: 'manifest', path: `/v2/${REPOSITORY}/manifests/v1`, headers: MANIFEST_ACCEPT },
      { kind: 'blob', path: `/v2/${REPOSITORY}/blobs/${image.layerDigests[0]}`, headers: {} },
    ];
    const streams = () => a.envoy.stat(ENVOY_STAT.extProc('streams_started'));
    const streamsBefore = await streams();

    const cases: {
      kind: string;
      concurrency: number;
      geosync: Side;
      alone: Side;
      ratios: Record<'throughput' | 'p50' | 'p99' | 'cpu', PairedRatio>;
    }[] = [];
    for (const k of kinds) {
      for (const c of s.concurrencies) {
        const target = (base: string): HttpTarget[] => [
          { method: 'GET', url: base + k.path, headers: k.headers },
        ];
        const attack = async (base: string, sec: number, pid: number): Promise<Run> => {
          const cpu = cpuSeconds(pid);
          const result = await ctx.vegeta.closedLoop(target(base), c, sec);
          return { result, envoyCpuSeconds: cpuSeconds(pid) - cpu };
        };
        await attack(a.url, s.warmupSeconds, a.envoy.pid);
        await attack(aloneUrl, s.warmupSeconds, alonePid);
        const withGeosync: Run[] = [];
        const envoyAlone: Run[] = [];
        for (let round = 0; round < s.rounds; round++) {
          const order = round % 2 === 0 ? ['geosync', 'alone'] : ['alone', 'geosync'];
          for (const who of order) {
            if (who === 'geosync') withGeosync.push(await attack(a.url, s.seconds, a.envoy.pid));
            else envoyAlone.push(await attack(aloneUrl, s.seconds, alonePid));
          }
        }
        const x = { kind: k.kind, concurrency: c, geosync: side(withGeosync), alone: side(envoyAlone) };
        const ratios = {
          throughput: pairedRatio(x.geosync.throughputs, x.alone.throughputs),
          p50: pairedRatio(x.geosync.p50s, x.alone.p50s),
          p99: pairedRatio(x.geosync.p99s, x.alone.p99s),
          cpu: pairedRatio(x.geosync.cpuUsPerRequest, x.alone.cpuUsPerRequest),
        };
        ctx.log(
          `  ${k.kind} c=${c}: ${num(median(x.geosync.throughputs))} vs ${num(median(x.alone.throughputs))} req/s ` +
            `(${timesRange(ratios.throughput)}), p99 ${timesRange(ratios.p99)}`,
        );
        cases.push({ ...x, ratios });
      }
    }
    const extProcStreams = (await streams()) - streamsBefore;

    const throughputRatios = cases.map((x) => x.ratios.throughput.median);
    const p99Ratios = cases.map((x) => x.ratios.p99.median);
    const name = (i: number) => `${cases[i]?.kind} c=${cases[i]?.concurrency}`;
    const misses = (rs: number[], ok: (r: number) => boolean) =>
      rs.flatMap((r, i) => (ok(r) ? [] : [`${name(i)} ${times(r)}`]));
    const lowThroughput = misses(throughputRatios, (r) => r >= THROUGHPUT_TARGET);
    const highP99 = misses(p99Ratios, (r) => r <= P99_TARGET);
    const failures = cases.reduce((n, x) => n + x.geosync.failures + x.alone.failures, 0);
    const targets: Target[] = [
      {
        text: `throughput ≥ ${THROUGHPUT_TARGET}× Envoy alone in every case`,
        met: lowThroughput.length === 0,
        ...(lowThroughput.length ? { note: `below in ${lowThroughput.join(', ')}` } : {}),
      },
      {
        text: `p99 ≤ ${P99_TARGET}× Envoy alone in every case`,
        met: highP99.length === 0,
        ...(highP99.length ? { note: `above in ${highP99.join(', ')}` } : {}),
      },
    ];

    const maxC = Math.max(...s.concurrencies);
    const minC = Math.min(...s.concurrencies);
    const panels = kinds.map((k) => ({
      kind: 'quantiles' as const,
      title: `1 · local ${k.kind} GETs (200): Envoy + geosync vs Envoy alone`,
      series: cases
        .filter((x) => x.kind === k.kind && (x.concurrency === maxC || x.concurrency === minC))
        .flatMap((x, i): QuantileSeries[] => [
          {
            label: `geosync c=${x.concurrency}`,
            distribution: distribution(x.geosync.latenciesMs),
            group: i,
          },
          {
            label: `alone c=${x.concurrency}`,
            distribution: distribution(x.alone.latenciesMs),
            group: i,
            dashed: true,
          },
        ]),
    }));

    return {
      part: 1,
      title: 'Local hits: Envoy + geosync vs Envoy alone',
      method:
        `vegeta closed loop of one URL, \`GET\` of a manifest by tag and of a ` +
        `${num(s.blobBytes / 1024 / 1024)} MiB blob, both 200 from the local registry (filesystem ` +
        'driver). Baseline: the same generated bootstrap with the match-delegate (ext_proc) filter ' +
        'removed from the `local_registry` cluster, on the same machine, address and registry. Per ' +
        `case ${s.rounds} pairs of ${s.seconds} s runs, the two sides alternating (A B, B A, …) after ` +
        `${s.warmupSeconds} s of warm-up each; figures are medians over the runs, ratios the median of ` +
        "the per-pair ratios with their range in brackets. Envoy CPU per request: the Envoy process's " +
        'user + system time during a run (/proc) over the requests it served.',
      table: {
        header: [
          'GET',
          'concurrency',
          'req/s geosync',
          'req/s alone',
          'ratio',
          'p50 geosync',
          'p50 alone',
          'ratio',
          'p99 geosync',
          'p99 alone',
          'ratio',
          'Envoy CPU per request, geosync',
          'alone',
          'ratio',
          'failed',
        ],
        rows: cases.map((x) => [
          x.kind,
          String(x.concurrency),
          num(median(x.geosync.throughputs)),
          num(median(x.alone.throughputs)),
          timesRange(x.ratios.throughput),
          ms(median(x.geosync.p50s)),
          ms(median(x.alone.p50s)),
          timesRange(x.ratios.p50),
          ms(median(x.geosync.p99s)),
          ms(median(x.alone.p99s)),
          timesRange(x.ratios.p99),
          `${num(median(x.geosync.cpuUsPerRequest))} µs`,
          `${num(median(x.alone.cpuUsPerRequest))} µs`,
          timesRange(x.ratios.cpu),
          String(x.geosync.failures + x.alone.failures),
        ]),
      },
      targets,
      notes: [
        `ext_proc streams Envoy opened to geosync during these ${cases.reduce((n, x) => n + x.geosync.requests, 0)} ` +
          `local hits: ${extProcStreams} (the matcher skips the filter for every status but 404, and for 200s of anything but signature and attestation tags and tag lists).`,
        `requests that failed on either side: ${failures}.`,
      ],
      data: {
        extProcStreams,
        cases: cases.map(({ geosync, alone, ...x }) => ({
          ...x,
          geosync: { ...geosync, latenciesMs: undefined },
          alone: { ...alone, latenciesMs: undefined },
        })),
      },
      panels,
      seconds: elapsedSeconds(started),
    };
  } finally {
    await alone?.envoy.close();
    await d.stop();
  }
}
