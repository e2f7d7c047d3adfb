/**
 * Transports of the generated bootstrap on real Envoy (newest and oldest supported release): an
 * https sibling is reached with SNI and its certificate verified against the configured CA (an
 * unverifiable one is refused, never served), and geosync can listen on a unix socket.
 */
import { CLUSTER_DEFAULTS } from '../../../src/config/sections/cluster-tuning';
import { ENVOY_STAT, type EnvoyRelease } from '../../support/envoy/envoy';
import { until } from '../../support/process';
import { get, startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];
const CHECK_OFTEN = { enabled: true, intervalMs: 200, timeoutMs: 150 };
const checked = async (s: Stack) => (await s.envoy.stat('cluster.sibling_b.health_check.success')) >= 1;

describe.each(RELEASES)('Envoy %s', (release) => {
  test('an https sibling: redirect across schemes, SNI sent, certificate verified', async () => {
    const s = await startStack({ release, siblingTls: true });
    try {
      expect(s.siblingUrl).toMatch(/^https:\/\/localhost:\d+$/);
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('manifest from b');
      expect(s.sibling.requests.at(-1)?.servername).toBe('localhost');
      // The default `protocol: auto`: ALPN, and this sibling offers only HTTP/1.1.
      expect(s.sibling.requests.at(-1)?.httpVersion).toBe('1.1');
    } finally {
      await s.close();
    }
  });

  test('an https sibling offering h2: the default `auto` pulls over HTTP/2, health checks pass', async () => {
    const s = await startStack({
      release,
      siblingTls: true,
      siblingHttp2: true,
      envoy: { siblings: { b: { healthCheck: CHECK_OFTEN } } },
    });
    try {
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('manifest from b');
      const pulls = s.sibling.requests.filter((r) => r.url === MANIFEST);
      expect(pulls.map((r) => r.httpVersion)).toEqual(['2.0']);
      await until('a health check of the sibling succeeded', () => checked(s), 10_000);
      expect(await s.envoy.stat('cluster.sibling_b.health_check.failure')).toBe(0);
    } finally {
      await s.close();
    }
  });

  test.each([
    ['http2', '2.0'],
    ['http1', '1.1'],
  ])('a cleartext sibling with `protocol: %s` is pulled over HTTP %s', async (protocol, version) => {
    const s = await startStack({
      release,
      siblingHttp2: protocol === 'http2',
      envoy: { siblings: { b: { protocol, healthCheck: CHECK_OFTEN } } },
    });
    try {
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('manifest from b');
      const pulls = s.sibling.requests.filter((r) => r.url === MANIFEST);
      expect(pulls.map((r) => r.httpVersion)).toEqual([version]);
      // The h2c-only sibling answers health checks only if they too speak HTTP/2.
      await until('a health check of the sibling succeeded', () => checked(s), 10_000);
      expect(s.sibling.requests.filter((r) => r.url === '/v2/').every((r) => r.httpVersion === version)).toBe(
        true,
      );
    } finally {
      await s.close();
    }
  });

  test('an https sibling whose certificate the configured CA did not sign: refused, no content', async () => {
    // The default CA bundle (the system's) does not know the test CA.
    const systemCa = CLUSTER_DEFAULTS.caFile;
    const s = await startStack({
      release,
      siblingTls: true,
      envoy: { siblings: { b: { caFile: systemCa } } },
    });
    try {
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(503);
      expect(res.body).not.toContain('manifest from b');
      expect(s.sibling.requests).toHaveLength(0);
      expect(await s.envoy.stat('cluster.sibling_b.ssl.fail_verify_error')).toBeGreaterThanOrEqual(1);
    } finally {
      await s.close();
    }
  });

  test('geosync on a unix socket', async () => {
    const s = await startStack({ release, grpc: 'unix' });
    try {
      expect(s.processor.address).toMatch(/^unix:\//);
      expect((await get(`${s.url}${MANIFEST}`)).status).toBe(200);
      expect(s.processor.streams).toHaveLength(1);
      expect(await s.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(1);
    } finally {
      await s.close();
    }
  });
});
