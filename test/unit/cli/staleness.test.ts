/** `geosync staleness --admin URL`: against a loopback server that answers like geosync's admin port. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/command';
import type { StalenessReport } from '../../../src/staleness/report';
import { closedPort } from '../../support/net/tcp-blackhole';

const REPORT: StalenessReport = {
  region: 'b',
  windowSeconds: 3600,
  generatedAt: '2026-01-01T00:00:00.000Z',
  originPushes: 0,
  pairs: [
    {
      sourceRegion: 'a',
      region: 'b',
      replicationLag: { count: 1, avgSeconds: 12, medianSeconds: 12, p95Seconds: 12 },
      timeToPullable: { count: 0, avgSeconds: null, medianSeconds: null, p95Seconds: null },
      pulls: { rescued: 0, missed: 1, rescueFraction: 0 },
    },
  ],
};

let server: http.Server;
let admin: string;
const paths: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.url === '/staleness') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(REPORT));
    } else {
      res.writeHead(404);
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  admin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise(() => undefined),
  };
  return { code: await main(argv, io), stdout, stderr };
}

test('prints the report of GET <admin>/staleness as a table', async () => {
  const r = await run('staleness', '--admin', `${admin}/`);
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')[2]?.split(/\s{2,}/)).toEqual([
    'a → b',
    '1',
    '12.000',
    '12.000',
    '12.000',
    '0',
    '-',
    '-',
    '-',
    '0',
    '1',
    '0.0 %',
  ]);
  expect(paths.at(-1)).toBe('GET /staleness');
});

test('--json prints the report as served', async () => {
  const r = await run('staleness', '--admin', admin, '--json');
  expect([r.code, JSON.parse(r.stdout)]).toEqual([0, REPORT]);
});

test.each<[string, string[], string]>([
  ['no --admin', [], '--admin URL is required'],
  [
    'an --admin that is no URL',
    ['--admin', '127.0.0.1:9003'],
    '--admin must be an http(s) URL, got "127.0.0.1:9003"',
  ],
  [
    'an --admin with a path',
    ['--admin', 'http://127.0.0.1:9003/staleness'],
    '--admin must be an http(s) URL',
  ],
])('usage error (exit 2): %s', async (_name, args, message) => {
  const r = await run('staleness', ...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
});

test('a geosync that does not answer: exit 1 with the reason', async () => {
  const r = await run('staleness', '--admin', `http://127.0.0.1:${await closedPort()}`);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^cannot fetch http:\/\/127\.0\.0\.1:\d+\/staleness: /);
});
