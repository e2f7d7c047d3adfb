/**
 * `geosync serve` with two workers (listen.workers: 2), a real process tree on one gRPC port:
 * connections are spread over the workers, the supervisor's /metrics holds every worker's samples,
 * and a worker that dies is no outage: the other keeps answering and stays ready while the
 * supervisor starts a new one. Outcomes only; how the kernel and Node spread connections is
 * asserted no further than "each worker got some" over many connections.
 */
import { execFileSync } from 'node:child_process';
import { herd } from '../../support/clients/herd';
import { until } from '../../support/process';
import { scrape, sum } from '../../support/prometheus';
import { startServeFixture, type ServeFixture } from '../../support/stacks/serve-fixture';

jest.setTimeout(120_000);

let fx: ServeFixture;

beforeAll(async () => {
  fx = await startServeFixture({ drainMs: 0, layerSizes: [1000], workers: 2, lookupTimeoutMs: 1000 });
  // The supervisor is ready once one worker serves; on a loaded machine the other may not have
  // bound the port yet, and every connection would then go to the first. Wait for both.
  await until(
    'both workers serving',
    async () => (fx.serve.output().match(/"msg":"worker ready"/g) ?? []).length >= 2,
    30_000,
  );
});
afterAll(() => fx?.stop());

const blob = () => `/v2/team/app/blobs/${fx.image.layerDigests[0]}`;

/** `n` connections, one stream each for `path`, one after another: what each was answered. */
async function connectionsTo(path: string, n: number) {
  const results = { redirected: 0, passed: 0, unanswered: 0 };
  for (let i = 0; i < n; i++) {
    const r = await herd(fx.grpc, [path], { ownConnection: true });
    results.redirected += r.redirected;
    results.passed += r.passed;
    results.unanswered += r.unanswered;
  }
  return results;
}

const connections = (n: number) => connectionsTo(blob(), n);

/** Decisions per worker, from the supervisor's merged /metrics. */
async function decisionsByWorker(): Promise<number[]> {
  const text = await scrape(fx.admin);
  return ['0', '1'].map((w) => sum(text, 'geosync_decisions_total', { geosync_worker: w }));
}

function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(fx.serve.child.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => p > 0);
}

test('connections are answered by both workers, and /metrics merges them', async () => {
  expect(workerPids()).toHaveLength(2);
  expect(await connections(20)).toEqual({ redirected: 20, passed: 0, unanswered: 0 });
  const byWorker = await decisionsByWorker();
  expect(byWorker[0]! + byWorker[1]!).toBe(20);
  expect(byWorker[0]).toBeGreaterThan(0);
  expect(byWorker[1]).toBeGreaterThan(0);
});

test('a manifest one worker found: every worker reads it, and answers the config after it with no lookup', async () => {
  const perWorker = async (name: string, labels: Record<string, string> = {}) => {
    const text = await scrape(fx.admin);
    return ['0', '1'].map((w) => sum(text, name, { ...labels, geosync_worker: w }));
  };
  const probesBefore = await perWorker('geosync_probes_total');
  // One pull's manifest, on one connection: one worker finds it in a's storage.
  expect(await herd(fx.grpc, ['/v2/team/app/manifests/v1'], { ownConnection: true })).toMatchObject({
    redirected: 1,
  });
  // The supervisor passes it on; each worker reads the manifest's contents once. A bound for a
  // relay that never happens, not a speed.
  await until(
    'both workers read the manifest',
    async () =>
      (await perWorker('geosync_manifest_contents_reads_total', { geosync_result: 'learnt' })).every(
        (n) => n >= 1,
      ),
    30_000,
  );
  const probesAfterManifest = await perWorker('geosync_probes_total');
  // The config on ten more connections (both workers among them): no storage lookup anywhere.
  expect(await connectionsTo(`/v2/team/app/blobs/${fx.image.configDigest}`, 10)).toEqual({
    redirected: 10,
    passed: 0,
    unanswered: 0,
  });
  expect(await perWorker('geosync_probes_total')).toEqual(probesAfterManifest);
  // Only the worker that found the manifest probed storage for it.
  const probed = probesAfterManifest.map((n, i) => n - probesBefore[i]!);
  expect(probed.reduce((a, b) => a + b, 0)).toBe(1);
});

test("a worker's crash is not an outage: the other answers and stays ready; a new one starts", async () => {
  const [victim] = workerPids();
  process.kill(victim!, 'SIGKILL');
  // Once the supervisor has seen it go (it reaps the process): still ready, and every new
  // connection is answered by the other worker. A connection node:cluster handed to the worker
  // in the instant it died is lost with it (README, "Workers"); none is made in that instant here.
  await until('the supervisor saw the crash', async () => !workerPids().includes(victim!), 30_000);
  expect((await fetch(`${fx.admin}/readyz`)).status).toBe(200);
  expect(await connections(10)).toEqual({ redirected: 10, passed: 0, unanswered: 0 });
  // A bound for a supervisor that never restarts, not a speed.
  await until(
    'a second worker again',
    async () => workerPids().length === 2 && !workerPids().includes(victim!),
    30_000,
  );
  await until(
    'the restart counted',
    async () => sum(await scrape(fx.admin), 'geosync_worker_restarts_total') === 1,
    30_000,
  );
  expect(await connections(10)).toEqual({ redirected: 10, passed: 0, unanswered: 0 });
});

test('SIGTERM: the supervisor drains, stops every worker and exits 0', async () => {
  const pids = workerPids();
  fx.serve.child.kill('SIGTERM');
  expect(await fx.serve.exited).toBe(0);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
});
