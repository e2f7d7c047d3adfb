/**
 * The admin server on loopback port 0: method dispatch (GET/HEAD routes, POST routes, 405s) and
 * the request timeout that cuts a slow client.
 */
import net from 'node:net';
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

/**
 * Sends a request's headers one byte every 200 ms and never ends them; resolves with what the
 * server answered once it closes the connection, or with `undefined` if it has not by `waitMs`.
 */
function dribbleHeaders(address: string, waitMs: number): Promise<string | undefined> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve) => {
    const head = `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n${'X-Slow: '.padEnd(10_000, 'x')}`;
    let sent = 0;
    let answer = '';
    const socket = net.connect(Number(port), host);
    const dribble = setInterval(() => socket.write(head.charAt(sent++ % head.length)), 200);
    const done = (result: string | undefined) => {
      clearInterval(dribble);
      clearTimeout(deadline);
      socket.destroy();
      resolve(result);
    };
    const deadline = setTimeout(() => done(undefined), waitMs);
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('close', () => done(answer));
    socket.on('error', () => undefined);
  });
}

test('a client that sends its headers slowly is cut at the request timeout, long before 30 s', async () => {
  // Node checks its timeouts every connectionsCheckingInterval (30 s by default): the 10 s timeout
  // (ADMIN_REQUEST_TIMEOUT_MS) then fired at about 32 s. A server with a 2 s timeout shows the rule
  // without waiting out geosync's 10 s; the wait is a bound for a hung test, well under 30 s.
  const timeoutMs = 2000;
  const short = await startAdminServer(
    { kind: 'tcp', host: '127.0.0.1', port: 0 },
    () => true,
    undefined,
    undefined,
    timeoutMs,
  );
  try {
    const answer = await dribbleHeaders(short.address, timeoutMs + 15_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  } finally {
    await short.close();
  }
}, 40_000);
