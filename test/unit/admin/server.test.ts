/** The admin server's method dispatch, on loopback port 0: GET/HEAD routes, POST routes, 405s. */
import { startAdminServer, type AdminServer } from '../../../src/admin/server';
import { stalenessRoute } from '../../../src/staleness/route';
import { StalenessLedger } from '../../../src/staleness/ledger';
import { ManualClock } from '../../support/clock';

let server: AdminServer;
let base: string;
const ledger = new StalenessLedger('b', ['a'], new ManualClock(Date.UTC(2026, 0, 1)), {
  windowMs: 60_000,
  maxSamples: 100,
});

beforeAll(async () => {
  server = await startAdminServer(
    { kind: 'tcp', host: '127.0.0.1', port: 0 },
    () => true,
    new Map([
      ['/staleness', stalenessRoute(() => ledger.report())],
      [
        '/broken',
        () => {
          throw new Error('bug');
        },
      ],
    ]),
    new Map([
      [
        '/hook',
        (_req, res) => {
          res.writeHead(204);
          res.end();
        },
      ],
    ]),
  );
  base = `http://${server.address}`;
});

afterAll(() => server?.close());

async function request(method: string, path: string) {
  const res = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, allow: res.headers.get('allow'), body: await res.text() };
}

test.each<[string, string, number, string | null]>([
  ['GET', '/healthz', 200, null],
  ['HEAD', '/readyz', 200, null],
  ['POST', '/healthz', 405, 'GET, HEAD'],
  ['DELETE', '/staleness', 405, 'GET, HEAD'],
  ['POST', '/hook', 204, null],
  ['GET', '/hook', 405, 'POST'],
  ['GET', '/nowhere', 404, null],
  ['GET', '/broken', 500, null],
])('%s %s → %i', async (method, path, status, allow) => {
  const r = await request(method, path);
  expect([r.status, r.allow]).toEqual([status, allow]);
});

test('GET /staleness is the report as JSON; HEAD has no body', async () => {
  const r = await request('GET', '/staleness');
  expect(JSON.parse(r.body)).toEqual(ledger.report());
  expect((await request('HEAD', '/staleness')).body).toBe('');
});
