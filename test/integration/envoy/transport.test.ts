/**
 * Transports of the generated bootstrap on real Envoy (newest and oldest supported release): an
 * https sibling is reached with SNI and its certificate verified against the configured CA (an
 * unverifiable one is refused, never served), and geosync can listen on a unix socket.
 */
import { ENVOY_STAT, type EnvoyRelease } from '../../support/envoy';
import { get, startStack } from './stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];

describe.each(RELEASES)('Envoy %s', (release) => {
  test('an https sibling: redirect across schemes, SNI sent, certificate verified', async () => {
    const s = await startStack({ release, siblingTls: true });
    try {
      expect(s.siblingUrl).toMatch(/^https:\/\/localhost:\d+$/);
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('manifest from b');
      expect(s.sibling.requests.at(-1)?.servername).toBe('localhost');
    } finally {
      await s.close();
    }
  });

  test('an https sibling whose certificate the configured CA did not sign: refused, no content', async () => {
    // The default CA bundle (the system's) does not know the test CA.
    const s = await startStack({ release, siblingTls: true, envoy: { siblings: { b: {} } } });
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
