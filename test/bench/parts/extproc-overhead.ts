/**
 * Part 5, geosync alone (the in-process benchmark `npm run bench` ran before issue 14, kept):
 * ext_proc streams per second and per-stream latency over real gRPC on loopback, geosync versus a
 * null ext_proc server (stack/null-extproc.ts), with the same message mix. The mix is what Envoy
 * sends with the generated configuration: one response-headers message per stream (request
 * headers are skipped; the request's path and method come as attributes), and only for 404s,
 * since the matcher keeps every other status away from geosync. The client runs in this process,
 * so absolute numbers understate a real geosync; the ratios are the result.
 *
 * Also kept from the old benchmark: what telemetry costs on the lookup path (on/off), and heap
 * growth per 10,000 streams once the garbage collector has run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metrics as noopMetrics, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { startEngine, type Engine } from '../../../src/app/engine';
import { loadConfigText } from '../../../src/config/load';
import { silentLogger } from '../../../src/log/logger';
import { ExtProcTestClient, responseHeadersMessage } from '../../support/clients/extproc-client';
import { elapsedSeconds, type BenchContext } from '../context';
import {
  bytes,
  ms,
  num,
  times,
  timesRange,
  type PartResult,
  type QuantileSeries,
  type Target,
} from '../results';
import { startNullExtProc } from '../stack/null-extproc';
import { distribution, median, pairedRatio, summarize } from '../tools/stats';
import { REGISTRY_V2_ROOT } from '../../../src/storage/keys';

const HEX = 'f'.repeat(64);
const THROUGHPUT_TARGET = 0.9;
const P99_TARGET = 1.2;

interface Mix {
  readonly id: string;
  readonly label: string;
  /** For the chart's legend. */
  readonly short: string;
  /** Untouched: geosync lets the 404 pass. The targets apply to these. */
  readonly untouched: boolean;
  readonly path: (i: number) => string;
}

const MIXES: readonly Mix[] = [
  {
    id: 'negative',
    label: '404, content nowhere, cached miss',
    short: 'nowhere, cached',
    untouched: true,
    path: () => '/v2/team/app/manifests/missing',
  },
  {
    id: 'probed',
    label: '404, content nowhere, storage probed',
    short: 'nowhere, probed',
    untouched: true,
    path: (i) => `/v2/team/app/blobs/sha256:${i.toString(16).padStart(64, '0')}`,
  },
  {
    id: 'rescued',
    label: '404 → 307, storage probed',
    short: '307, probed',
    untouched: false,
    path: () => '/v2/team/app/manifests/v1',
  },
];

interface Run {
  readonly perSecond: number;
  readonly latenciesMs: number[];
}

async function drive(
  address: string,
  mix: Mix,
  n: number,
  concurrency: number,
  offset: number,
): Promise<Run> {
  const client = new ExtProcTestClient(address);
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = offset + next++;
        const t = performance.now();
        const s = client.open();
        await s.exchange(
          responseHeadersMessage(404, {
            attributes: { 'request.path': mix.path(i), 'request.method': 'GET', 'request.id': `bench-${i}` },
          }),
        );
        // Like Envoy: the server ends the stream after its last reply; close after seeing that end.
        await s.status;
        s.close();
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  const perSecond = n / ((performance.now() - started) / 1000);
  client.close();
  return { perSecond, latenciesMs };
}

function layout(root: string): void {
  for (const f of [
    'repositories/team/app/_manifests/tags/v1/current/link',
    `repositories/team/app/_manifests/revisions/sha256/${HEX}/link`,
    `blobs/sha256/${HEX.slice(0, 2)}/${HEX}/data`,
  ]) {
    const file = path.join(root, REGISTRY_V2_ROOT, f);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `sha256:${HEX}`);
  }
}

/**
 * Telemetry as `geosync serve` has it without OTLP (src/telemetry/sdk.ts): a Prometheus meter, no
 * tracer (nothing would export its spans); or a no-op meter.
 */
function telemetry(on: boolean) {
  if (!on) return { meter: noopMetrics.getMeterProvider().getMeter('noop') };
  return {
    meter: new MeterProvider({ readers: [new PrometheusExporter({ preventServerStart: true })] }).getMeter(
      'geosync',
    ),
  };
}

export async function extprocOverhead(ctx: BenchContext): Promise<PartResult> {
  const started = performance.now();
  const s = ctx.scale.extproc;
  const tmp = mkdtempSync(path.join(ctx.tmp, 'extproc-'));
  layout(path.join(tmp, 'a'));
  const config = (cache: boolean) => {
    const parsed = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:0 }
locate: { cache: { maxEntries: ${cache ? 100000 : 0} } }
regions:
  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: ${tmp}/a } }
  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: ${tmp}/b } }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return parsed.config;
  };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const servers: { close(): Promise<void> }[] = [];
  const start = async (cache: boolean, on: boolean): Promise<Engine> => {
    const g = await startEngine(config(cache), { log: silentLogger, ...telemetry(on) });
    servers.push(g);
    return g;
  };
  try {
    const cached = await start(true, true);
    const uncached = await start(false, true);
    const uncachedOff = await start(false, false);
    const nul = await startNullExtProc();
    servers.push(nul);
    const geosyncFor = (m: Mix) => (m.id === 'rescued' ? uncached : cached);

    let offset = 0;
    const go = async (address: string, m: Mix, n: number) => {
      const r = await drive(address, m, n, s.concurrency, offset);
      offset += n;
      return r;
    };
    for (const m of MIXES) {
      await go(geosyncFor(m).grpcAddress, m, Math.ceil(s.streams / 8));
      await go(nul.grpcAddress, m, Math.ceil(s.streams / 8));
    }
    const runs = new Map<string, { geosync: Run[]; null: Run[]; off: Run[] }>(
      MIXES.map((m) => [m.id, { geosync: [], null: [], off: [] }]),
    );
    for (let round = 0; round < s.rounds; round++) {
      for (const m of MIXES) {
        const r = runs.get(m.id) as { geosync: Run[]; null: Run[]; off: Run[] };
        const order = round % 2 === 0 ? ['geosync', 'null'] : ['null', 'geosync'];
        for (const side of order) {
          if (side === 'geosync') r.geosync.push(await go(geosyncFor(m).grpcAddress, m, s.streams));
          else r.null.push(await go(nul.grpcAddress, m, s.streams));
        }
        if (m.id === 'rescued') r.off.push(await go(uncachedOff.grpcAddress, m, s.streams));
      }
    }

    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    await go(uncached.grpcAddress, MIXES[2] as Mix, s.heapStreams);
    gc?.();
    const heapGrowthPer10k = ((process.memoryUsage().heapUsed - heapBefore) * 10_000) / s.heapStreams;

    const summary = (rs: readonly Run[]) => {
      const per = rs.map((x) => summarize(x.latenciesMs));
      return {
        perSecond: rs.map((x) => x.perSecond),
        p50: per.map((x) => x.p50Ms),
        p99: per.map((x) => x.p99Ms),
      };
    };
    const rows = MIXES.map((m) => {
      const r = runs.get(m.id) as { geosync: Run[]; null: Run[]; off: Run[] };
      const geo = summary(r.geosync);
      const nulls = summary(r.null);
      const ratios = {
        perSecond: pairedRatio(geo.perSecond, nulls.perSecond),
        p50: pairedRatio(geo.p50, nulls.p50),
        p99: pairedRatio(geo.p99, nulls.p99),
      };
      return { mix: m, geo, nulls, ratios, r };
    });
    const rescued = rows[2] as (typeof rows)[number];
    const telemetryCost = pairedRatio(
      rescued.geo.perSecond,
      rescued.r.off.map((x) => x.perSecond),
    );
    ctx.log(
      `  ${rows.map((x) => `${x.mix.id}: ${num(median(x.geo.perSecond))} vs ${num(median(x.nulls.perSecond))}/s`).join(', ')}`,
    );

    const untouched = rows.filter((x) => x.mix.untouched);
    const tput = untouched.filter((x) => !(x.ratios.perSecond.median >= THROUGHPUT_TARGET));
    const p99 = untouched.filter((x) => !(x.ratios.p99.median <= P99_TARGET));
    const targets: Target[] = [
      {
        text: `untouched path: throughput ≥ ${THROUGHPUT_TARGET}× the null server`,
        met: tput.length === 0,
        ...(tput.length
          ? {
              note: `below in: ${tput.map((x) => `${x.mix.label} ${times(x.ratios.perSecond.median)}`).join('; ')}`,
            }
          : {}),
      },
      {
        text: `untouched path: p99 ≤ ${P99_TARGET}× the null server`,
        met: p99.length === 0,
        ...(p99.length
          ? { note: `above in: ${p99.map((x) => `${x.mix.label} ${times(x.ratios.p99.median)}`).join('; ')}` }
          : {}),
      },
    ];
    const series: QuantileSeries[] = rows.flatMap((x, i) => [
      {
        label: `geosync: ${x.mix.short}`,
        distribution: distribution(x.r.geosync.flatMap((y) => y.latenciesMs)),
        group: i + 5,
      },
      {
        label: `null: ${x.mix.short}`,
        distribution: distribution(x.r.null.flatMap((y) => y.latenciesMs)),
        group: i + 5,
        dashed: true,
      },
    ]);
    return {
      part: 5,
      title: 'geosync alone: ext_proc streams vs a null ext_proc server',
      method:
        `${s.rounds} rounds × ${s.streams} streams per side and mix, ${s.concurrency} concurrent, over one ` +
        'gRPC connection on loopback, client in the same process, the two sides alternating; figures are ' +
        'medians over the rounds, ratios the median of the per-round ratios (range in brackets). Each stream is ' +
        'one response-headers message (`:status 404`, the request path and method as attributes) and ' +
        "the server's reply. geosync runs with telemetry as `geosync serve` without OTLP (Prometheus " +
        'meter; no spans, as nothing would export them), the lookup cache at its default, or off for the "storage ' +
        'probed" rows, and a sibling on the filesystem driver.',
      table: {
        header: [
          '404 of',
          'untouched',
          'streams/s geosync',
          'null',
          'ratio',
          'p50 geosync',
          'null',
          'ratio',
          'p99 geosync',
          'null',
          'ratio',
        ],
        rows: rows.map((x) => [
          x.mix.label,
          x.mix.untouched ? 'yes (404 passes)' : 'no (307)',
          num(median(x.geo.perSecond)),
          num(median(x.nulls.perSecond)),
          timesRange(x.ratios.perSecond),
          ms(median(x.geo.p50)),
          ms(median(x.nulls.p50)),
          timesRange(x.ratios.p50),
          ms(median(x.geo.p99)),
          ms(median(x.nulls.p99)),
          timesRange(x.ratios.p99),
        ]),
      },
      targets,
      notes: [
        `telemetry on the lookup path (404 → 307, on/off throughput): ${timesRange(telemetryCost)}.`,
        `heap growth per 10,000 streams after GC: ${gc ? bytes(heapGrowthPer10k) : 'run with --expose-gc'}.`,
        'Envoy sends geosync nothing for local hits (part 1); these streams are the 404s only.',
      ],
      data: {
        rows: rows.map((x) => ({
          mix: x.mix.id,
          untouched: x.mix.untouched,
          geosync: x.geo,
          null: x.nulls,
          ratios: x.ratios,
        })),
        telemetryOnOffThroughput: telemetryCost,
        heapGrowthPer10kStreamsBytes: gc ? heapGrowthPer10k : null,
      },
      panels: [{ kind: 'quantiles', title: '5 · one ext_proc stream: geosync vs null server', series }],
      seconds: elapsedSeconds(started),
    };
  } finally {
    for (const srv of servers) await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
