/**
 * Readiness cannot hang on sibling storage: an instance with its engine in-process (real gRPC and
 * admin servers, as `geosync serve` with one worker runs) bounds the warm-up with its own
 * deadline, reports what did not answer, and becomes ready anyway; the storage check runs beside
 * serving and reports when it has something to say.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { trace } from '@opentelemetry/api';
import type { EngineDeps } from '../../../src/app/engine';
import { inProcessHost } from '../../../src/app/in-process-host';
import { startInstance, type Instance } from '../../../src/app/instance';
import { WARM_UP_BUDGET_MS, WARM_UP_GRACE_MS } from '../../../src/app/warm-up';
import { loadConfigText } from '../../../src/config/load';
import type { GeosyncConfig } from '../../../src/config/types';
import type { Locator, StorageProblem } from '../../../src/locate/locator';
import { createLogger } from '../../../src/log/logger';
import { capturedLogger } from '../../support/log-capture';
import { ManualClock } from '../../support/clock';
import { freePort } from '../../support/net/ports';
import { until } from '../../support/process';
import { startBlackhole, type Blackhole } from '../../support/net/tcp-blackhole';

jest.setTimeout(60_000);

let tmp: string;
let hole: Blackhole;
const apps: Instance[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-readiness-'));
  hole = await startBlackhole();
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close(0)));
  await hole.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Region b; sibling a's S3 endpoint accepts connections and never answers. */
async function config(): Promise<{ config: GeosyncConfig; admin: string }> {
  const adminPort = await freePort();
  const result = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:${adminPort} }
regions:
  - name: a
    url: http://registry-a.invalid:5000
    storage: { type: s3, bucket: a, endpoint: "${hole.url}", forcePathStyle: true, accessKeyId: k, secretAccessKey: s, requestTimeoutMs: 60000 }
  - { name: b, url: "http://registry-b.invalid:5000", storage: { type: filesystem, root: ${tmp} } }
`);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return { config: result.config, admin: `http://127.0.0.1:${adminPort}` };
}

const deps = (log: ReturnType<typeof createLogger>) => ({
  log,
  meter: new MeterProvider().getMeter('test'),
  tracer: trace.getTracer('test'),
});

/** The instance `geosync serve` runs with one worker: the engine in its own process. */
function start(c: GeosyncConfig, engine: EngineDeps): Promise<Instance> {
  return startInstance(c, { ...engine, host: inProcessHost(c, engine) });
}

const readyz = async (admin: string) => (await fetch(`${admin}/readyz`)).status;

test('a storage that accepts and never answers: not ready until the warm-up budget has passed, then ready, and reported', async () => {
  const { config: c, admin } = await config();
  const { lines, log } = capturedLogger('warn');
  const clock = new ManualClock();
  const connectionsBefore = hole.connections;
  const starting = start(c, { ...deps(log), clock });
  // The admin port answers 503 while the warm-up waits on a's storage (which has taken its
  // connection and says nothing); the warm-up's budget is on the manual clock.
  await until(
    'the admin port answers and the warm-up reached the storage',
    async () => hole.connections > connectionsBefore && (await readyz(admin).catch(() => 0)) === 503,
    30_000,
  );
  clock.advance(WARM_UP_BUDGET_MS - 1);
  await new Promise((resolve) => setImmediate(resolve));
  expect(await readyz(admin)).toBe(503);
  clock.advance(1);
  const app = await starting;
  apps.push(app);
  expect(await readyz(admin)).toBe(200);
  expect(lines.filter((l) => l.msg === 'sibling storage did not answer the warm-up')).toEqual([
    expect.objectContaining({ sibling: 'a', problem: 'its storage did not answer the warm-up in time' }),
  ]);
});

test('a warm-up that ignores its deadline is abandoned: ready anyway, and said so', async () => {
  const { config: c, admin } = await config();
  const { lines, log } = capturedLogger('warn');
  const clock = new ManualClock();
  let warmStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (warmStarted = resolve));
  const hanging: Locator = {
    locate: async () => ({ outcome: 'not_found' }),
    warm: () => {
      warmStarted();
      return new Promise(() => {});
    },
    close: async () => {},
  };
  const starting = start(c, { ...deps(log), clock, locator: hanging });
  await started;
  expect(await readyz(admin)).toBe(503);
  clock.advance(WARM_UP_BUDGET_MS + WARM_UP_GRACE_MS);
  const app = await starting;
  apps.push(app);
  expect(await readyz(admin)).toBe(200);
  expect(lines.map((l) => l.msg)).toContain(
    'storage warm-up did not finish within its budget; serving anyway',
  );
});

test('the storage check runs beside serving: ready at once, its findings logged when they come', async () => {
  const { config: c, admin } = await config();
  const { lines, log } = capturedLogger('warn');
  let report: (problems: readonly StorageProblem[]) => void = () => {};
  const checking: Locator = {
    locate: async () => ({ outcome: 'not_found' }),
    warm: async () => [],
    checkStorage: () => new Promise((resolve) => (report = resolve)),
    close: async () => {},
  };
  const app = await start(c, { ...deps(log), clock: new ManualClock(), locator: checking });
  apps.push(app);
  expect(await readyz(admin)).toBe(200);
  expect(lines.map((l) => l.msg)).not.toContain('sibling storage looks misconfigured');
  report([{ region: 'a', kind: 'misconfigured', problem: 'bucket "typo" does not exist' }]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines.filter((l) => l.msg === 'sibling storage looks misconfigured')).toEqual([
    expect.objectContaining({ sibling: 'a', problem: 'bucket "typo" does not exist' }),
  ]);
});
