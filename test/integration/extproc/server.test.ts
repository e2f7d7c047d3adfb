/**
 * The ext_proc server over a real gRPC port, driven by a client that speaks like Envoy.
 * The locator is the one `serve` builds (FsProbes on a distribution-layout directory), except
 * where a test needs a locator that stalls (deadline, cancellation).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
// The class of the server side of every bidi stream (grpc-js server.ts creates one per call).
import { ServerDuplexStreamImpl } from '@grpc/grpc-js/build/src/server-call';
import { service as healthService } from 'grpc-health-check';
import { startEngine, type Engine } from '../../../src/app/engine';
import { systemClock } from '../../../src/clock/clock';
import { loadConfigText } from '../../../src/config/load';
import type { GeosyncConfig } from '../../../src/config/types';
import type { DecisionRecord } from '../../../src/decide/decision';
import type { LocateResult, Locator } from '../../../src/locate/locator';
import { silentLogger } from '../../../src/log/logger';
import {
  ExtProcTestClient,
  requestHeadersMessage,
  responseHeadersMessage,
  setHeaders,
} from '../../support/clients/extproc-client';

// Bounds against a hang only: on a loaded 2-core machine, starting a server and 500 streams can
// take seconds. Speed is measured by `npm run bench`, not here.
jest.setTimeout(30_000);

const HEX = 'd'.repeat(64);

/** `promise`, or a failure naming `what` after `timeoutMs` (a hang, not a slow machine). */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting until ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `condition()` holds; fails after `timeoutMs` (a hang, not a slow machine). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
let tmp: string;
let config: GeosyncConfig;

/** Writes the objects distribution keeps for one pushed manifest (tag + revision + blob data). */
function writeManifest(root: string, repo: string, tag: string, hex: string) {
  const v2 = path.join(root, 'docker/registry/v2');
  const files = [
    `repositories/${repo}/_manifests/tags/${tag}/current/link`,
    `repositories/${repo}/_manifests/revisions/sha256/${hex}/link`,
    `blobs/sha256/${hex.slice(0, 2)}/${hex}/data`,
  ];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(v2, f)), { recursive: true });
    writeFileSync(path.join(v2, f), `sha256:${hex}`);
  }
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-extproc-'));
  for (const r of ['a', 'b', 'c']) mkdirSync(path.join(tmp, r));
  writeManifest(path.join(tmp, 'a'), 'team/app', 'v1', HEX);
  writeManifest(path.join(tmp, 'c'), 'team/app', 'v1', HEX);
  writeManifest(path.join(tmp, 'c'), 'only/in-c', 'v1', HEX);
  const result = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:0 }
lookupTimeoutMs: 150
preference: [c, a]
regions:
  - { name: a, url: "https://registry-a.example.com", storage: { type: filesystem, root: ${tmp}/a } }
  - { name: b, url: "https://registry-b.example.com", storage: { type: filesystem, root: ${tmp}/b } }
  - { name: c, url: "http://127.0.0.1:5103", storage: { type: filesystem, root: ${tmp}/c } }
`);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  config = result.config;
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function start(locator?: Locator, decisions: DecisionRecord[] = []) {
  const app = await startEngine(config, {
    log: silentLogger,
    clock: systemClock,
    ...(locator ? { locator } : {}),
    onDecision: (r) => decisions.push(r),
  });
  return { app, client: new ExtProcTestClient(app.grpcAddress), decisions };
}

describe('ext_proc server (real gRPC, filesystem locator)', () => {
  let app: Engine;
  let client: ExtProcTestClient;

  beforeAll(async () => ({ app, client } = await start()));
  afterAll(async () => {
    client.close();
    await app.close();
  });

  test.each(['raw_value', 'value'] as const)(
    '404 GET of a manifest → 307 to the preferred holder (%s)',
    async (encoding) => {
      const s = client.open();
      const r1 = await s.exchange(
        requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }, encoding),
      );
      expect(r1.request_headers).toBeTruthy();
      expect(r1.mode_override).toBeNull();
      const r2 = await s.exchange(responseHeadersMessage(404, { encoding }));
      expect(setHeaders(r2)).toEqual({
        ':status': '307',
        location: 'http://127.0.0.1:5103/v2/team/app/manifests/v1',
        'x-geosync-redirect': '1',
      });
      // Mutations are written only in raw_value: Envoy >= 1.27 ignores `value`.
      for (const h of r2.response_headers?.response?.header_mutation?.set_headers ?? []) {
        expect(h.header?.value).toBe('');
        expect(h.append).toBeNull();
      }
      s.close();
    },
  );

  test('SKIP mode: request path and method from response attributes (Envoy >= 1.37)', async () => {
    const s = client.open();
    const r = await s.exchange(
      responseHeadersMessage(404, {
        attributes: { 'request.path': `/v2/team/app/manifests/sha256:${HEX}`, 'request.method': 'HEAD' },
      }),
    );
    expect(setHeaders(r)).toEqual({
      ':status': '307',
      location: `http://127.0.0.1:5103/v2/team/app/manifests/sha256:${HEX}`,
      'x-geosync-redirect': '1',
    });
    s.close();
  });

  test('content nowhere → the 404 passes', async () => {
    const s = client.open();
    await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/missing' }));
    const r = await s.exchange(responseHeadersMessage(404));
    expect(r.response_headers).toBeTruthy();
    expect(setHeaders(r)).toEqual({});
    s.close();
  });

  test.each([
    ['blob HEAD', 'HEAD', `/v2/team/app/blobs/sha256:${HEX}`, {}],
    ['PUT', 'PUT', '/v2/team/app/manifests/v1', {}],
    ['over-long path', 'GET', `/v2/${'a/'.repeat(1100)}manifests/v1`, {}],
    ['%2e%2e', 'GET', '/v2/team/%2e%2e/app/manifests/v1', {}],
    ['forwarded by another region', 'GET', '/v2/team/app/manifests/v1', { 'x-geosync-forwarded-by': 'b' }],
  ])(
    '%s → CONTINUE with response_header_mode SKIP, then geosync ends the stream',
    async (_name, method, p, extra) => {
      const s = client.open();
      const r1 = await s.exchange(requestHeadersMessage({ ':method': method, ':path': p, ...extra }));
      expect(r1.mode_override?.response_header_mode).toBe('SKIP');
      expect(setHeaders(r1)).toEqual({});
      // An Envoy without allow_mode_override sees the stream closed with OK and lets the response
      // pass unchanged (ext_proc onGrpcClose: processing complete).
      expect((await s.status).code).toBe(grpc.status.OK);
      expect(s.pendingReplies).toBe(0);
      s.close();
    },
  );

  test('the reply to response headers is the last: geosync ends the stream with OK', async () => {
    const s = client.open();
    await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
    expect(setHeaders(await s.exchange(responseHeadersMessage(404)))[':status']).toBe('307');
    expect((await s.status).code).toBe(grpc.status.OK);
    s.close();
  });

  // Envoy closes a stream with a half-close and an RST_STREAM unless the server closed it first
  // (ext_proc client_impl.cc). Node's HTTP/2 server answers ~1000 peer resets on one connection with
  // GOAWAY (nghttp2's rapid-reset limit), which would fail every stream in flight. geosync therefore
  // ends each stream itself; a client that, like Envoy, closes after seeing that end sends no reset.
  test('1,500 sequential streams on one connection, each closed the way Envoy closes it', async () => {
    for (let i = 0; i < 1500; i++) {
      const s = client.open();
      await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
      const r = await s.exchange(responseHeadersMessage(i % 2 ? 404 : 200));
      expect(r.response_headers).toBeTruthy();
      // geosync ends the stream with OK; a stream left open would wait for a reset from Envoy.
      expect((await within(s.status, 10_000, `stream ${i} ended by geosync`)).code).toBe(grpc.status.OK);
      s.close();
    }
  }, 60_000);

  test('200 → plain CONTINUE', async () => {
    const s = client.open();
    await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
    const r = await s.exchange(responseHeadersMessage(200));
    expect(setHeaders(r)).toEqual({});
    s.close();
  });

  test('messages sent back to back are answered in order', async () => {
    const s = client.open();
    s.write(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
    s.write(responseHeadersMessage(404));
    const first = await s.next();
    const second = await s.next();
    expect(first.response).toBe('request_headers');
    expect(second.response).toBe('response_headers');
    expect(setHeaders(second)[':status']).toBe('307');
    s.close();
  });

  test('a message with no request kind ends the stream with INVALID_ARGUMENT', async () => {
    const s = client.open();
    s.write({});
    const status = await s.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  test('bytes that are not a ProcessingRequest end the stream; the server keeps serving', async () => {
    const raw = new grpc.Client(app.grpcAddress, grpc.credentials.createInsecure());
    const call = raw.makeBidiStreamRequest(
      '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    call.on('data', () => {});
    call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect((await status).code).not.toBe(grpc.status.OK);
    raw.close();
    const s = client.open();
    await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
    expect(setHeaders(await s.exchange(responseHeadersMessage(404)))[':status']).toBe('307');
    s.close();
  });
});

describe('ext_proc server: deadlines, cancellation, draining', () => {
  class StallingLocator implements Locator {
    readonly signals: AbortSignal[] = [];
    locate(_t: unknown, signal: AbortSignal): Promise<LocateResult> {
      this.signals.push(signal);
      return new Promise(() => {});
    }
    async close() {}
  }

  // Correctness under concurrency, not speed: 500 streams arriving at once keep a loaded 2-core
  // machine busy for longer than 150 ms, so this instance gets a generous deadline (the deadline
  // itself is tested below; throughput is measured by `npm run bench`).
  test('500 concurrent streams each get their own correct answer', async () => {
    const decisions: DecisionRecord[] = [];
    const app = await startEngine(
      { ...config, lookupTimeoutMs: 5_000 },
      {
        log: silentLogger,
        onDecision: (r) => decisions.push(r),
      },
    );
    const client = new ExtProcTestClient(app.grpcAddress);
    const streams = Array.from({ length: 500 }, (_, i) => ({ i, s: client.open() }));
    const results = await Promise.all(
      streams.map(async ({ i, s }) => {
        const repo = i % 2 === 0 ? 'team/app' : 'only/in-c';
        const tag = i % 5 === 0 ? 'missing' : 'v1';
        await s.exchange(
          requestHeadersMessage({ ':method': 'GET', ':path': `/v2/${repo}/manifests/${tag}` }),
          10_000,
        );
        const r = await s.exchange(responseHeadersMessage(404), 10_000);
        s.close();
        return {
          expected: tag === 'v1' ? `http://127.0.0.1:5103/v2/${repo}/manifests/v1` : undefined,
          got: setHeaders(r).location,
        };
      }),
    );
    for (const r of results) expect(r.got).toBe(r.expected);
    expect(decisions.filter((d) => d.outcome === 'proxied')).toHaveLength(400);
    expect(decisions.filter((d) => d.outcome === 'not_found')).toHaveLength(100);
    client.close();
    await app.close();
  }, 60_000);

  test('a locator slower than lookupTimeoutMs → CONTINUE once the deadline has passed', async () => {
    const locator = new StallingLocator();
    const { app, client, decisions } = await start(locator);
    const s = client.open();
    try {
      await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
      const t0 = Date.now();
      // The locator never answers: only the server's deadline can produce this reply. How soon
      // after the deadline it arrives depends on the machine's load, so the wait bounds a hang only.
      const r = await s.exchange(responseHeadersMessage(404), 10_000);
      const elapsed = Date.now() - t0;
      expect(setHeaders(r)).toEqual({});
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(locator.signals[0]?.aborted).toBe(true);
      expect(decisions[0]).toMatchObject({ outcome: 'timeout' });
      expect(decisions[0]?.lookupMs).toBeGreaterThanOrEqual(149);
    } finally {
      s.close();
      client.close();
      await app.close();
    }
  });

  test('Envoy cancelling mid-lookup aborts the lookup; no reply is written', async () => {
    const locator = new StallingLocator();
    const { app, client, decisions } = await start(locator);
    // A message written after the cancel never reaches the client (the HTTP/2 stream is reset), so
    // the client cannot tell whether one was written: count the server's writes instead.
    const writes = jest.spyOn(ServerDuplexStreamImpl.prototype, 'write');
    try {
      const s = client.open();
      await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
      expect(writes).toHaveBeenCalledTimes(1);
      s.write(responseHeadersMessage(404));
      await until(() => locator.signals.length === 1, 'the lookup has started');
      s.close();
      await until(() => locator.signals[0]?.aborted === true, 'the lookup is aborted');
      // What follows the abort (the lookup settles, the stream's step ends) runs in promise
      // callbacks, which all run before this timer fires.
      await new Promise((r) => setTimeout(r, 100));
      expect(writes).toHaveBeenCalledTimes(1);
      expect(decisions).toEqual([]);
    } finally {
      writes.mockRestore();
      client.close();
      await app.close();
    }
  });

  test('grpc.health.v1: SERVING, then NOT_SERVING while draining; streams still answered', async () => {
    const { app, client } = await start();
    const health = healthClient(app.grpcAddress);
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        health.check({ service }, (err, res) => (err ? reject(err) : resolve(res?.status ?? ''))),
      );
    expect(await check('')).toBe('SERVING');
    expect(await check('envoy.service.ext_proc.v3.ExternalProcessor')).toBe('SERVING');
    app.startDraining();
    expect(await check('')).toBe('NOT_SERVING');
    const s = client.open();
    await s.exchange(requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }));
    expect(setHeaders(await s.exchange(responseHeadersMessage(404)))[':status']).toBe('307');
    s.close();
    health.close();
    client.close();
    await app.close();
  });
});

type HealthCheck = (
  req: { service: string },
  cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
) => void;

/** A grpc.health.v1 client from the service definition grpc-health-check ships. */
function healthClient(address: string): grpc.Client & { check: HealthCheck } {
  const Ctor = grpc.makeGenericClientConstructor(healthService, 'Health');
  return new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check: HealthCheck;
  };
}
