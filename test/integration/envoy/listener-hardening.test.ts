/**
 * The generated listener's hardening on real Envoy (newest and oldest supported release):
 * clients that never finish their headers (slowloris) are cut off at the default
 * request_headers_timeout, and clients that send nothing at the listener's idle_timeout; the
 * overload manager caps downstream connections (so Envoy no longer
 * warns that nothing does) while the admin port stays reachable.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { EnvoyRelease } from '../../support/envoy/envoy';
import { get, startStack } from '../../support/stacks/envoy-stack';

jest.setTimeout(90_000);

const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];
const NO_LIMIT_WARNING = 'no configured limit to the number of allowed active downstream connections';

/**
 * Opens `n` connections that send part of a request's headers and then nothing, or (`silent`)
 * nothing at all.
 */
function slowClients(
  url: string,
  n: number,
  silent = false,
): Promise<{ closedWithin(ms: number): Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sockets: net.Socket[] = [];
    const closed = new Set<net.Socket>();
    let connected = 0;
    for (let i = 0; i < n; i++) {
      const s = net.connect(Number(port), hostname, () => {
        if (!silent) s.write(`GET /v2/team/app/manifests/v1 HTTP/1.1\r\nHost: ${hostname}\r\nX-Slow: `);
        if (++connected === n) {
          resolve({
            closedWithin: async (ms) => {
              const until = Date.now() + ms;
              while (closed.size < n && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
              for (const x of sockets) x.destroy();
              return closed.size;
            },
          });
        }
      });
      // Read (and drop) what Envoy answers, so that its close is seen.
      s.resume();
      s.on('close', () => closed.add(s));
      s.on('error', () => closed.add(s));
      sockets.push(s);
    }
    setTimeout(() => reject(new Error('slow clients could not connect')), 30_000).unref();
  });
}

const ACTIVE = /^http\.registry_ingress\.downstream_cx_active$/;

/** Polls an Envoy stat until it reaches `value`; throws at the deadline with what it last read. */
async function untilStat(
  envoy: { stat(name: RegExp): Promise<number> },
  name: RegExp,
  value: number,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = await envoy.stat(name);
  while (last < value) {
    if (Date.now() > until) throw new Error(`${String(name)} stayed at ${last}, wanted ${value}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await envoy.stat(name);
  }
}

// Both releases at once, each on its own stack: each test waits out Envoy's default 10 s, and one
// after the other they were most of this file's time.
describe('the default request_headers_timeout', () => {
  test.concurrent.each(RELEASES)(
    'Envoy %s: 50 slowloris connections are closed by the default request_headers_timeout (10 s)',
    async (release) => {
      const s = await startStack({ release });
      try {
        const clients = await slowClients(s.url, 50);
        // A bound for a hung test only: Envoy closes them at its 10 s timeout.
        expect(await clients.closedWithin(40_000)).toBe(50);
        expect(await s.envoy.stat('http.registry_ingress.downstream_rq_header_timeout')).toBe(50);
        // The listener still serves.
        expect((await get(`${s.url}/v2/team/app/manifests/v1`)).status).toBe(200);
      } finally {
        await s.close();
      }
    },
  );
});

describe.each(RELEASES)('Envoy %s', (release) => {
  test('50 connections that send nothing are closed by the listener idle_timeout', async () => {
    // request_headers_timeout starts only with a first byte: without an idle_timeout such
    // connections stayed for Envoy's default hour. A short timeout keeps the test quick; the
    // default (120 s) is asserted in test/unit/envoy/bootstrap.test.ts.
    const s = await startStack({ release, envoy: { listener: { idleTimeoutMs: 2000 } } });
    try {
      const clients = await slowClients(s.url, 50, true);
      // A bound for a hung test only: Envoy closes them at its 2 s timeout.
      expect(await clients.closedWithin(40_000)).toBe(50);
      expect(await s.envoy.stat('http.registry_ingress.downstream_cx_idle_timeout')).toBe(50);
      expect((await get(`${s.url}/v2/team/app/manifests/v1`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('past envoy.listener.maxConnections new connections are refused; the admin port still answers', async () => {
    const s = await startStack({ release, envoy: { listener: { maxConnections: 5 } } });
    try {
      expect(fs.readFileSync(s.envoy.logFile, 'utf8')).not.toContain(NO_LIMIT_WARNING);
      const clients = await slowClients(s.url, 5);
      // A client's connect completes in the kernel before Envoy accepts (and counts) it: wait
      // until Envoy holds all five, or the sixth can race ahead of one of them (seen in CI).
      await untilStat(s.envoy, ACTIVE, 5, 30_000);
      const refused = await get(`${s.url}/v2/team/app/manifests/v1`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
      expect(
        await s.envoy.stat(/downstream_cx_overload_reject$|downstream_global_cx_overflow$/),
      ).toBeGreaterThan(0);
      await clients.closedWithin(0);
    } finally {
      await s.close();
    }
  });
});
