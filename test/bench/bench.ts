/**
 * `npm run bench`: what geosync costs on the hot path, measured as ratios within one run so the
 * machine's speed cancels out. Not a test: it prints numbers and asserts nothing.
 *
 *  1. ext_proc round trips per second over real gRPC (request headers + a 404 to a pull that a
 *     sibling holds on the filesystem driver), with telemetry off (no-op meter and tracer) and on
 *     (OpenTelemetry SDK meter with a Prometheus reader, tracer with an in-memory exporter).
 *  2. The same with the ineligible fast path (a blob HEAD: one message, mode_override SKIP).
 *  3. Memory: heap growth per 10,000 streams once the garbage collector has run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { metrics as noopMetrics, trace as noopTrace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startGeosync, type Geosync } from '../../src/app/geosync';
import { loadConfigText } from '../../src/config/load';
import { silentLogger } from '../../src/log/logger';
import { ExtProcTestClient, requestHeadersMessage, responseHeadersMessage } from '../support/extproc-client';

const HEX = 'f'.repeat(64);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 4000);
const CONCURRENCY = 64;

function layout(root: string): void {
  for (const f of [
    'repositories/team/app/_manifests/tags/v1/current/link',
    `repositories/team/app/_manifests/revisions/sha256/${HEX}/link`,
    `blobs/sha256/${HEX.slice(0, 2)}/${HEX}/data`,
  ]) {
    const file = path.join(root, 'docker/registry/v2', f);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `sha256:${HEX}`);
  }
}

async function run(app: Geosync, kind: 'lookup' | 'ineligible', n: number): Promise<number> {
  const client = new ExtProcTestClient(app.grpcAddress);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next++;
        const s = client.open();
        if (kind === 'lookup') {
          await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
          await s.exchange(responseHeadersMessage(404));
        } else {
          await s.exchange(
            requestHeadersMessage({ ':method': 'HEAD', ':path': `/v2/team/app/blobs/sha256:${HEX}` }),
          );
        }
        // Like Envoy: geosync ends the stream after its last reply; close after seeing that end.
        await s.status;
        s.close();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.close();
  return n / seconds;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-bench-'));
  layout(path.join(tmp, 'a'));
  const parsed = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:0 }
lookupTimeoutMs: 150
locate: { cache: { maxEntries: 0 } }
regions:
  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: ${tmp}/a } }
  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: ${tmp}/b } }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = parsed.config;

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const plain = await startGeosync(config, {
    log: silentLogger,
    meter: noopMetrics.getMeterProvider().getMeter('noop'),
    tracer: noopTrace.getTracerProvider().getTracer('noop'),
  });
  const spans = new InMemorySpanExporter();
  const instrumented = await startGeosync(config, {
    log: silentLogger,
    meter: new MeterProvider({ readers: [new PrometheusExporter({ preventServerStart: true })] }).getMeter(
      'geosync',
    ),
    tracer: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }).getTracer(
      'geosync',
    ),
  });

  // Warm up both (JIT, connections), then alternate to spread any drift of the machine.
  await run(plain, 'lookup', 500);
  await run(instrumented, 'lookup', 500);
  const rates = {
    plain: [] as number[],
    instrumented: [] as number[],
    fastPlain: [] as number[],
    fastInstr: [] as number[],
  };
  for (let round = 0; round < 3; round++) {
    rates.plain.push(await run(plain, 'lookup', STREAMS));
    rates.instrumented.push(await run(instrumented, 'lookup', STREAMS));
    spans.reset();
    rates.fastPlain.push(await run(plain, 'ineligible', STREAMS));
    rates.fastInstr.push(await run(instrumented, 'ineligible', STREAMS));
    spans.reset();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  await run(plain, 'lookup', 10_000);
  gc?.();
  const after = process.memoryUsage().heapUsed;

  const p = median(rates.plain);
  const i = median(rates.instrumented);
  const fp = median(rates.fastPlain);
  const fi = median(rates.fastInstr);
  const line = (name: string, value: string) => process.stdout.write(`${name.padEnd(58)} ${value}\n`);
  process.stdout.write(
    `geosync bench: ${STREAMS} streams x 3 rounds, ${CONCURRENCY} concurrent, node ${process.version}\n`,
  );
  line('404 → lookup → 307, telemetry off (streams/s)', p.toFixed(0));
  line('404 → lookup → 307, telemetry on (streams/s)', i.toFixed(0));
  line('telemetry overhead on the lookup path (on/off throughput)', (i / p).toFixed(3));
  line('ineligible fast path, telemetry off (streams/s)', fp.toFixed(0));
  line('ineligible fast path, telemetry on (streams/s)', fi.toFixed(0));
  line('fast path vs lookup path throughput (telemetry off)', `${(fp / p).toFixed(2)}x`);
  line(
    'heap growth per 10,000 streams after GC',
    gc ? `${((after - before) / 1024).toFixed(0)} KiB` : 'run with --expose-gc',
  );

  await plain.close();
  await instrumented.close();
  rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
