/**
 * The instance's own part, whatever hosts its engines (a fake host here; the real ones run in
 * test/integration/app/readiness.test.ts, in-process, and test/integration/cli/serve-workers.test.ts,
 * as workers): `/readyz` follows the engines until the instance drains, the pulls an engine
 * reports reach the staleness figures, and the end of its life goes drain, drainMs, stop, one
 * dead-mount warning, `stopped`, then the wait for the engines' processes to end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnginePort } from '../../../src/app/engine';
import type { EngineHost } from '../../../src/app/host';
import {
  DEAD_MOUNT_WARNING,
  runInstance,
  startInstance,
  STOP_GRACE_MS,
  type InstanceEnd,
} from '../../../src/app/instance';
import { loadConfigText } from '../../../src/config/load';
import type { GeosyncConfig } from '../../../src/config/types';
import { silentLogger } from '../../../src/log/logger';
import { capturedLogger } from '../../support/log-capture';
import type { StalenessReport } from '../../../src/staleness/report';
import { systemClock } from '../../../src/clock/clock';
import { ManualClock } from '../../support/clock';
import { freePort } from '../../support/net/ports';
import { until } from '../../support/process';

class FakeHost implements EngineHost {
  readonly calls: string[] = [];
  isReady = false;
  /** What `stop` says still hangs in a dead mount. */
  hanging = 0;
  startError?: Error;
  pullDecided: EnginePort['pullDecided'] = () => {
    throw new Error('reported before start');
  };
  fail: (reason: string) => void = () => {};
  readonly failed = new Promise<string>((resolve) => (this.fail = resolve));
  exit: () => void = () => {};
  private readonly exit$ = new Promise<void>((resolve) => (this.exit = resolve));
  private readonly waiting: { prefix: string; resolve: () => void }[] = [];

  /** Resolves once a call starting with `prefix` was made. */
  called(prefix: string): Promise<void> {
    if (this.calls.some((c) => c.startsWith(prefix))) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ prefix, resolve }));
  }
  private record(call: string): void {
    this.calls.push(call);
    for (const w of this.waiting.filter((x) => call.startsWith(x.prefix))) w.resolve();
  }
  async start(pullDecided: EnginePort['pullDecided']): Promise<void> {
    this.record('start');
    if (this.startError) throw this.startError;
    this.pullDecided = pullDecided;
  }
  ready(): boolean {
    return this.isReady;
  }
  drain(): void {
    this.record('drain');
  }
  async stop(graceMs: number): Promise<number> {
    this.record(`stop ${graceMs}`);
    return this.hanging;
  }
  exited(): Promise<void> {
    this.record('exited');
    return this.exit$;
  }
}

let tmp: string;
let config: GeosyncConfig;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'geosync-instance-'));
  const result = loadConfigText(`
region: b
listen: { grpc: 127.0.0.1:0, admin: 127.0.0.1:0 }
drainMs: 5000
regions:
  - { name: a, url: "http://registry-a.invalid:5000", storage: { type: filesystem, root: ${tmp}/a } }
  - { name: b, url: "http://registry-b.invalid:5000", storage: { type: filesystem, root: ${tmp}/b } }
`);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  config = result.config;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const STARTED = 'geosync instance started';

const get = (admin: string, p: string) => fetch(`http://${admin}${p}`);

/** Lets every callback already due run (promise jobs and I/O callbacks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('/readyz follows the engines until the instance drains; the pulls they report reach /staleness', async () => {
  const clock = new ManualClock();
  const host = new FakeHost();
  const instance = await startInstance(config, { log: silentLogger, clock, host });
  try {
    expect((await get(instance.adminAddress, '/readyz')).status).toBe(503);
    host.isReady = true;
    expect((await get(instance.adminAddress, '/readyz')).status).toBe(200);

    host.pullDecided(
      {
        outcome: 'proxied',
        kind: 'manifest_by_tag',
        sourceRegion: 'a',
        sourceLastModified: new Date(clock.now()),
      },
      'GET',
      { kind: 'manifest_by_tag', repository: 'team/app', tag: 'v1' },
    );
    const report = (await (await get(instance.adminAddress, '/staleness')).json()) as StalenessReport;
    expect(report.pairs.find((p) => p.sourceRegion === 'a')?.pulls.rescued).toBe(1);

    instance.startDraining();
    expect(host.calls).toEqual(['start', 'drain']);
    expect((await get(instance.adminAddress, '/readyz')).status).toBe(503);
  } finally {
    await instance.close(0);
  }
});

test('on the stop signal: drain, stop drainMs later, one dead-mount warning, stopped, then the wait for the engines to end', async () => {
  const clock = new ManualClock();
  const host = new FakeHost();
  host.isReady = true;
  host.hanging = 2;
  const { lines, log } = capturedLogger('info');
  let terminate: (signal: string) => void = () => {};
  const terminated = new Promise<string>((resolve) => (terminate = resolve));
  let end: InstanceEnd | undefined;
  const running = runInstance(config, { log, clock, host, terminated }).then((e) => (end = e));

  await host.called('start');
  terminate('SIGTERM');
  await host.called('drain');
  await settle();
  expect(host.calls).toEqual(['start', 'drain']);
  clock.advance(config.drainMs);
  await until('the instance said it stopped', async () => lines.some((l) => l.msg === 'stopped'), 10_000);
  expect(host.calls).toEqual(['start', 'drain', `stop ${STOP_GRACE_MS}`, 'exited']);
  const messages = lines.map((l) => l.msg);
  expect(messages.filter((m) => m === DEAD_MOUNT_WARNING)).toHaveLength(1);
  expect(lines.find((l) => l.msg === DEAD_MOUNT_WARNING)).toMatchObject({ calls: 2 });
  expect(messages.indexOf(DEAD_MOUNT_WARNING)).toBeLessThan(messages.indexOf('stopped'));
  // Not over until the engines' processes are.
  await settle();
  expect(end).toBeUndefined();
  host.exit();
  await running;
  expect(end).toEqual({ kind: 'stopped' });
});

test('no dead-mount warning when nothing hangs', async () => {
  const host = new FakeHost();
  host.exit();
  const { lines, log } = capturedLogger('info');
  const end = await runInstance(
    { ...config, drainMs: 0 },
    { log, clock: systemClock, host, terminated: Promise.resolve('SIGTERM') },
  );
  expect(end).toEqual({ kind: 'stopped' });
  expect(lines.map((l) => l.msg)).toContain('stopped');
  expect(lines.map((l) => l.msg)).not.toContain(DEAD_MOUNT_WARNING);
});

test('engines that turn out unable to start: stopped at once, the admin port closed, the instance ends failed', async () => {
  const host = new FakeHost();
  const { lines, log } = capturedLogger('info');
  const running = runInstance(config, {
    log,
    clock: new ManualClock(),
    host,
    terminated: new Promise(() => {}),
  });
  await until(
    'the instance said where its admin port is',
    async () => lines.some((l) => l.msg === STARTED),
    10_000,
  );
  const admin = lines.find((l) => l.msg === STARTED)?.admin as string;
  expect((await get(admin, '/healthz')).status).toBe(200);
  host.fail('worker 0 exited (code 1) before any worker was ready');
  expect(await running).toEqual({
    kind: 'failed',
    reason: 'worker 0 exited (code 1) before any worker was ready',
  });
  expect(host.calls).toContain('stop 0');
  await expect(get(admin, '/healthz')).rejects.toThrow();
});

test('a host that cannot start: the instance ends failed with its reason, and its admin port is closed', async () => {
  const host = new FakeHost();
  host.startError = new Error('No address added out of total 1 resolved');
  const { lines, log } = capturedLogger('info');
  const adminPort = await freePort();
  const end = await runInstance(
    { ...config, listen: { ...config.listen, admin: { kind: 'tcp', host: '127.0.0.1', port: adminPort } } },
    {
      log,
      clock: new ManualClock(),
      host,
      terminated: new Promise(() => {}),
    },
  );
  expect(end).toEqual({ kind: 'failed', reason: 'No address added out of total 1 resolved' });
  expect(lines.map((l) => l.msg)).toContain('geosync failed to start');
  expect(host.calls).toEqual(['start']);
  await expect(get(`127.0.0.1:${adminPort}`, '/healthz')).rejects.toThrow();
});
