import { RegistryHealth, httpHealthCheck } from '../../../src/locate/health';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../support/clock';
import { flush } from './fake-probe';

const OPTS = { intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 2 };

describe('RegistryHealth', () => {
  it('marks a region down after unhealthyThreshold failed rounds and up after one success', async () => {
    const clock = new ManualClock();
    let ok = true;
    const changes: string[] = [];
    const h = new RegistryHealth(
      [{ name: 'a', url: 'http://a' }],
      OPTS,
      clock,
      async () => ok,
      (r, up) => changes.push(`${r}:${up}`),
    );
    h.start();
    await flush();
    expect(h.isUp('a')).toBe(true);
    ok = false;
    clock.advance(5_000);
    await flush();
    expect(h.isUp('a')).toBe(true);
    clock.advance(5_000);
    await flush();
    expect(h.isUp('a')).toBe(false);
    ok = true;
    clock.advance(5_000);
    await flush();
    expect(h.isUp('a')).toBe(true);
    expect(changes).toEqual(['a:false', 'a:true']);
    h.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a check that never answers fails at timeoutMs', async () => {
    const clock = new ManualClock();
    const h = new RegistryHealth(
      [{ name: 'a', url: 'http://a' }],
      { ...OPTS, unhealthyThreshold: 1 },
      clock,
      () => new Promise<boolean>(() => {}),
    );
    const round = h.checkNow();
    clock.advance(1_000);
    await round;
    expect(h.isUp('a')).toBe(false);
  });

  it('httpHealthCheck: 200 and 401 are up, 503 and a closed port are down', async () => {
    let status = 200;
    const server = http.createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const results: boolean[] = [];
    for (const s of [200, 401, 503]) {
      status = s;
      results.push(await httpHealthCheck(url, AbortSignal.timeout(30_000)));
    }
    await new Promise((resolve) => server.close(resolve));
    results.push(await httpHealthCheck(url, AbortSignal.timeout(30_000)));
    expect(results).toEqual([true, true, false, false]);
  });
});
