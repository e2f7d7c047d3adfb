/**
 * The notifications route on a real admin server (loopback, port 0): the secret first, then media
 * type, size and envelope, then each event once; the secret never reaches a log line.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startAdminServer, type AdminServer } from '../../../src/admin/server';
import { notificationsEndpoint, type NotificationResult } from '../../../src/notifications/endpoint';
import { EVENTS_MEDIA_TYPE, type RegistryEvent } from '../../../src/notifications/envelope';
import { SeenEvents } from '../../../src/notifications/seen-events';
import { SharedSecret } from '../../../src/notifications/shared-secret';
import { ManualClock } from '../../support/clock';

const SECRET = 'Bearer 0123456789abcdef-geosync';
const MAX = 4096;

let server: AdminServer;
let url: string;
const received: RegistryEvent[][] = [];
const results: [NotificationResult, number][] = [];
let logged = '';

beforeAll(async () => {
  const log = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString();
        done();
      },
    }),
  );
  const route = notificationsEndpoint({
    secret: new SharedSecret('authorization', SECRET),
    seen: new SeenEvents(new ManualClock()),
    log,
    onEvents: (events) => received.push([...events]),
    onRequest: (result, duplicates) => results.push([result, duplicates]),
    maxBodyBytes: MAX,
  });
  server = await startAdminServer(
    { kind: 'tcp', host: '127.0.0.1', port: 0 },
    () => true,
    new Map(),
    new Map([['/notifications', route]]),
  );
  url = `http://${server.address}/notifications`;
});

afterAll(() => server?.close());

beforeEach(() => {
  received.length = 0;
  results.length = 0;
});

function envelope(...ids: string[]): string {
  return JSON.stringify({
    events: ids.map((id) => ({
      id,
      timestamp: '2026-12-02T02:20:30.532891179Z',
      action: 'push',
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', repository: 'team/app' },
    })),
  });
}

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: SECRET, 'content-type': EVENTS_MEDIA_TYPE, ...headers },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: await res.text() };
}

test("accepts distribution 3's envelope media type (events.v2+json) as 2.x's", async () => {
  const res = await post(envelope('v2-1'), {
    'content-type': 'application/vnd.docker.distribution.events.v2+json',
  });
  expect(res.status).toBe(202);
  expect(received.map((batch) => batch.map((e) => e.id))).toEqual([['v2-1']]);
});

test('accepts an envelope: 202, every event handed on once, in order', async () => {
  expect(await post(envelope('e1', 'e2'))).toEqual({
    status: 202,
    body: '{"accepted":2,"duplicates":0}\n',
  });
  expect(received.map((batch) => batch.map((e) => e.id))).toEqual([['e1', 'e2']]);
  expect(results).toEqual([['accepted', 0]]);
});

test('a re-delivered envelope is accepted again, and its events are not handed on twice', async () => {
  await post(envelope('r1'));
  expect(await post(envelope('r1', 'r2'))).toEqual({ status: 202, body: '{"accepted":1,"duplicates":1}\n' });
  expect(received.map((batch) => batch.map((e) => e.id))).toEqual([['r1'], ['r2']]);
  expect(results).toEqual([
    ['accepted', 0],
    ['accepted', 1],
  ]);
});

test.each<[string, Record<string, string>, string, number, NotificationResult]>([
  ['no secret', { authorization: '' }, envelope('u1'), 401, 'unauthorized'],
  [
    'a wrong secret',
    { authorization: 'Bearer 0123456789abcdef-geosynX' },
    envelope('u2'),
    401,
    'unauthorized',
  ],
  ['a prefix of the secret', { authorization: 'Bearer 0123' }, envelope('u3'), 401, 'unauthorized'],
  ['application/json', { 'content-type': 'application/json' }, envelope('m1'), 415, 'unsupported_media_type'],
  ['a gzip body', { 'content-encoding': 'gzip' }, envelope('m2'), 415, 'unsupported_media_type'],
  ['not JSON', {}, 'events: []', 400, 'malformed'],
  ['no events list', {}, '{"event": []}', 400, 'malformed'],
  ['a body over the limit', {}, `{"events": [], "pad": "${'x'.repeat(MAX)}"}`, 413, 'too_large'],
])('refuses %s', async (_name, headers, body, status, result) => {
  expect((await post(body, headers)).status).toBe(status);
  expect(received).toEqual([]);
  expect(results).toEqual([[result, 0]]);
});

test('a chunked body is cut off at the limit, without a content-length to go by', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { authorization: SECRET, 'content-type': EVENTS_MEDIA_TYPE, 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    // Keeps writing until the server answers: it must answer without waiting for the end.
    const chunk = 'x'.repeat(1024);
    const pump = () => {
      if (req.destroyed || req.writableEnded) return;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
    setTimeout(() => req.destroy(new Error('no answer while the body kept coming')), 5_000).unref();
  });
  expect(status).toBe(413);
  expect(results).toEqual([['too_large', 0]]);
});

test('only POST reaches the route; other methods are told what is allowed', async () => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  expect([res.status, res.headers.get('allow')]).toEqual([405, 'POST']);
  expect(results).toEqual([]);
});

test('the secret is never logged', async () => {
  await post(envelope('s1'), { authorization: 'Bearer not-the-secret-at-all' });
  await post('nope');
  expect(logged).toContain('notification refused');
  expect(logged).not.toContain('0123456789abcdef');
  expect(logged).not.toContain('not-the-secret');
});
