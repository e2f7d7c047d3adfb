/**
 * Spans and logs of real streams over real gRPC, recorded with an in-memory span exporter and a
 * captured pino stream: the span tree (stream → lookup → probe), the join to the client's trace,
 * and that no credential from the request reaches a span or a log line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startEngine, type Engine } from '../../../src/app/engine';
import { ATTRIBUTE } from '../../../src/extproc/headers';
import { loadConfigText } from '../../../src/config/load';
import { createLogger } from '../../../src/log/logger';
import { SPANS } from '../../../src/telemetry/names';
import {
  ExtProcTestClient,
  requestHeadersMessage,
  responseHeadersMessage,
  setHeaders,
} from '../../support/clients/extproc-client';

const HEX = 'e'.repeat(64);
const SECRET = 'Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQ=';
const COOKIE = 'session=super-secret-cookie';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

let tmp: string;
let app: Engine;
let client: ExtProcTestClient;
const exporter = new InMemorySpanExporter();
const logLines: string[] = [];
/** Every decision record and its request meta, as geosync hands them to metrics and logs. */
const records: unknown[] = [];
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-trace-'));
  const link = path.join(tmp, 'a/docker/registry/v2/repositories/team/app/_manifests/tags/v1/current/link');
  mkdirSync(path.dirname(link), { recursive: true });
  writeFileSync(link, `sha256:${HEX}`);
  mkdirSync(path.join(tmp, 'b'));
  const result = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:0 }
# Generous (the test is about spans, not speed); no keep-warm probes that would add spans.
lookupTimeoutMs: 10000
locate: { keepWarmIntervalMs: 0 }
telemetry: { logLevel: debug }
pushCheckBasicUsers: [ci-robot]
regions:
  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: ${tmp}/a } }
  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: ${tmp}/b } }
`);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  app = await startEngine(result.config, {
    log: createLogger({ level: 'debug', region: 'b', destination: sink }),
    meter: new MeterProvider().getMeter('test'),
    tracer: tracerProvider.getTracer('test'),
    onDecision: (record, meta) => records.push({ record, meta }),
  });
  client = new ExtProcTestClient(app.grpcAddress);
});

afterAll(async () => {
  client.close();
  await app.close();
  contextManager.disable();
  rmSync(tmp, { recursive: true, force: true });
});

/** The stream span ends when Envoy closes the stream, after the last reply: wait for it (bounded). */
async function waitForStreamSpan(): Promise<void> {
  const until = Date.now() + 30_000;
  while (!exporter.getFinishedSpans().some((x) => x.name === SPANS.stream) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('one span per stream, joined to the client trace, with a lookup child; no credentials anywhere', async () => {
  exporter.reset();
  const s = client.open();
  await s.exchange(
    requestHeadersMessage({
      ':method': 'GET',
      ':path': '/v2/team/app/manifests/v1',
      authorization: SECRET,
      cookie: COOKIE,
      'x-request-id': 'req-123',
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
    }),
    30_000,
  );
  const reply = await s.exchange(
    responseHeadersMessage(404, { headers: { 'www-authenticate': SECRET } }),
    30_000,
  );
  expect(setHeaders(reply)[':status']).toBe('307');
  s.close();
  await waitForStreamSpan();

  const spans = exporter.getFinishedSpans();
  const stream = spans.find((x) => x.name === SPANS.stream);
  const lookup = spans.find((x) => x.name === SPANS.lookup);
  expect(stream?.spanContext().traceId).toBe(TRACE_ID);
  expect(stream?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
  expect(lookup?.parentSpanContext?.spanId).toBe(stream?.spanContext().spanId);
  expect(stream?.attributes).toMatchObject({
    'geosync.outcome': 'proxied',
    'geosync.kind': 'manifest_by_tag',
    'geosync.source_region': 'a',
    'geosync.request_id': 'req-123',
  });
  // Repository names are off by default.
  expect(stream?.attributes['geosync.repository']).toBeUndefined();
  const probes = spans.filter((x) => x.name === SPANS.probe);
  expect(probes.length).toBeGreaterThanOrEqual(1);
  expect(probes[0]?.attributes).toMatchObject({ 'geosync.region': 'a', 'geosync.result': 'found' });
  for (const probe of probes) {
    expect(probe.parentSpanContext?.spanId).toBe(lookup?.spanContext().spanId);
  }

  const everything =
    JSON.stringify(spans.map((x) => ({ a: x.attributes, e: x.events, n: x.name }))) + logLines.join('\n');
  expect(everything).not.toContain('dXNlcjpzM2NyZXQtcGFzc3dvcmQ');
  expect(everything).not.toContain('super-secret-cookie');

  const decision = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'decision');
  expect(decision).toMatchObject({
    level: 'info',
    outcome: 'proxied',
    sourceRegion: 'a',
    requestId: 'req-123',
  });
});

test("a listed Basic user's HEAD and a bearer token: the decision is logged and traced, no credential is", async () => {
  exporter.reset();
  logLines.length = 0;
  records.length = 0;
  const token = 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib3QtdG9rZW4tc2VjcmV0In0.c2lnbmF0dXJl';
  // As the generated Envoy configuration sends it: the request as response attributes.
  const s = client.open();
  const reply = await s.exchange(
    responseHeadersMessage(404, {
      attributes: {
        [ATTRIBUTE.path]: '/v2/team/app/manifests/v1',
        [ATTRIBUTE.method]: 'HEAD',
        [ATTRIBUTE.basicUser]: 'ci-robot',
        [ATTRIBUTE.bearer]: token,
        [ATTRIBUTE.requestId]: 'req-robot',
      },
    }),
    30_000,
  );
  expect(setHeaders(reply)).toEqual({});
  s.close();
  // With request headers sent too (an operator's configuration): Authorization reaches geosync.
  const t = client.open();
  await t.exchange(
    requestHeadersMessage({
      ':method': 'HEAD',
      ':path': '/v2/team/app/manifests/v1',
      authorization: SECRET,
      'x-geosync-basic-user': 'ci-robot',
    }),
    30_000,
  );
  t.close();
  await waitForStreamSpan();

  expect(records).toHaveLength(2);
  for (const r of records) expect(r).toMatchObject({ record: { outcome: 'ineligible', reason: 'pusher' } });
  const spans = exporter.getFinishedSpans();
  expect(spans.find((x) => x.name === SPANS.stream)?.attributes).toMatchObject({
    'geosync.reason': 'pusher',
  });
  expect(logLines.some((l) => l.includes('"reason":"pusher"'))).toBe(true);
  const everything =
    JSON.stringify(spans.map((x) => ({ a: x.attributes, e: x.events, n: x.name }))) +
    JSON.stringify(records) +
    logLines.join('\n');
  expect(everything).not.toContain('dXNlcjpzM2NyZXQtcGFzc3dvcmQ');
  expect(everything).not.toContain('eyJzdWIiOiJib3QtdG9rZW4tc2VjcmV0In0');
  expect(everything).not.toContain('ci-robot');
});

test('the logger redacts credential headers even when code logs them', () => {
  logLines.length = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level: 'info', region: 'b', destination: sink });
  log.info({ headers: { authorization: SECRET, cookie: COOKIE, accept: '*/*' } }, 'x');
  log.flush();
  expect(logLines.join('')).not.toContain('dXNlcjpzM2NyZXQtcGFzc3dvcmQ');
  expect(logLines.join('')).toContain('[redacted]');
  expect(logLines.join('')).toContain('*/*');
});
