import { loadConfigText } from '../../../src/config/load';
import type { ConfigProblem } from '../../../src/config/problems';
import { configText, makeConfig, type ConfigShape } from './support';

function problems(shape: ConfigShape): readonly ConfigProblem[] {
  const result = loadConfigText(configText(shape));
  if (result.ok) throw new Error('unexpectedly valid');
  return result.problems;
}

describe('envoy options: defaults', () => {
  test('no envoy section: documented defaults', () => {
    const e = makeConfig({ regions: 3 }).envoy;
    expect(e.listener).toEqual({
      address: '0.0.0.0',
      port: 8080,
      allowPlaintextSiblings: false,
      requestHeadersTimeoutMs: 10_000,
      idleTimeoutMs: 120_000,
      maxConnections: 50_000,
      xffNumTrustedHops: 0,
    });
    expect(e.admin).toEqual({ address: '127.0.0.1', port: 9901 });
    expect(e.localRegistry).toMatchObject({ address: '127.0.0.1', port: 5000, tls: false, sni: '127.0.0.1' });
    expect(e.extProc).toEqual({
      messageTimeoutMs: 20_000,
      connectTimeoutMs: 250,
      maxStreamsPerConnection: 500,
    });
    expect(e.ignorePortInHostMatching).toBe(true);
    expect(e.accessLogPath).toBe('/dev/stdout');
    expect(Object.keys(e.siblings)).toEqual(['b', 'c']);
    expect(e.siblings.b).toMatchObject({ connectTimeoutMs: 2000, streamIdleTimeoutMs: 300_000 });
  });

  test('message timeout: its own default, not derived from a usual lookup timeout', () => {
    expect(makeConfig({ regions: 2, lookupTimeoutMs: 400 }).envoy.extProc.messageTimeoutMs).toBe(20_000);
  });

  test('lookup deadlines: a maximum below the minimum reads as the minimum', () => {
    expect(makeConfig({ regions: 2, lookupTimeoutMs: 3_000 }).lookupTimeoutMaxMs).toBe(3_000);
    expect(makeConfig({ regions: 2 }).lookupTimeoutMaxMs).toBe(2_000);
  });

  test('message timeout: the default stays above the longest lookup timeout allowed', () => {
    expect(makeConfig({ regions: 2, lookupTimeoutMs: 10_000 }).envoy.extProc.messageTimeoutMs).toBe(20_000);
  });

  test('regions sharing a host: ports are not stripped', () => {
    expect(makeConfig({ regions: 2, loopback: true }).envoy.ignorePortInHostMatching).toBe(false);
  });

  test('per-region overrides merge over siblingDefaults', () => {
    const e = makeConfig({
      regions: 3,
      envoy: {
        siblingDefaults: { connectTimeoutMs: 4000, circuitBreakers: { maxRequests: 10 } },
        siblings: { c: { connectTimeoutMs: 9000 } },
      },
    }).envoy;
    expect(e.siblings.b?.connectTimeoutMs).toBe(4000);
    expect(e.siblings.c?.connectTimeoutMs).toBe(9000);
    expect(e.siblings.c?.circuitBreakers.maxRequests).toBe(10);
  });
});

describe('envoy options: one problem per mistake, exact message', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'message timeout not above the lookup timeout',
      { extProc: { messageTimeoutMs: 150 } },
      'envoy.extProc.messageTimeoutMs',
      'must exceed lookupTimeoutMaxMs (2000), got 150',
    ],
    [
      'listener port out of range',
      { listener: { port: 70000 } },
      'envoy.listener.port',
      'must be <= 65535, got 70000',
    ],
    [
      'a key that no longer exists: the bootstrap is the same for every supported Envoy',
      { version: '1.37' },
      'envoy.version',
      'unknown key (known keys: listener, admin, ignorePortInHostMatching, localRegistry, extProc, siblingDefaults, siblings, accessLogPath)',
    ],
    ['a misspelt key', { listner: {} }, 'envoy.listner', 'unknown key (did you mean listener?)'],
    [
      'TLS without a key',
      { listener: { tls: { certChain: '/etc/tls.crt' } } },
      'envoy.listener.tls.privateKey',
      'is required',
    ],
    [
      'relative certificate path',
      { listener: { tls: { certChain: 'tls.crt', privateKey: '/k' } } },
      'envoy.listener.tls.certChain',
      'must be an absolute path, got "tls.crt"',
    ],
    [
      'admin on the listener port',
      { listener: { address: '0.0.0.0', port: 8080 }, admin: { address: '0.0.0.0', port: 8080 } },
      'envoy.admin.port',
      'must differ from envoy.listener.port',
    ],
    [
      'unknown sibling',
      { siblings: { z: { connectTimeoutMs: 1 } } },
      'envoy.siblings.z',
      'is not one of regions[].name',
    ],
    [
      'this region as a sibling',
      { siblings: { a: {} } },
      'envoy.siblings.a',
      'is this region; tune it under envoy.localRegistry',
    ],
    [
      'bad DNS family',
      { siblingDefaults: { dnsLookupFamily: 'V5' } },
      'envoy.siblingDefaults.dnsLookupFamily',
      'must be one of AUTO, V4_ONLY, V6_ONLY, V4_PREFERRED, ALL, got "V5"',
    ],
    [
      'health check timeout not below interval',
      { siblings: { b: { healthCheck: { intervalMs: 1000, timeoutMs: 1000 } } } },
      'envoy.siblings.b.healthCheck.timeoutMs',
      'must be below intervalMs (1000)',
    ],
    [
      'outlier percentage',
      { siblingDefaults: { outlierDetection: { maxEjectionPercent: 101 } } },
      'envoy.siblingDefaults.outlierDetection.maxEjectionPercent',
      'must be <= 100, got 101',
    ],
    [
      'unknown circuit breaker key',
      { localRegistry: { circuitBreakers: { maxConns: 1 } } },
      'envoy.localRegistry.circuitBreakers.maxConns',
      'unknown key (known keys: maxConnections, maxPendingRequests, maxRequests, maxRetries)',
    ],
    [
      'health check path',
      { siblingDefaults: { healthCheck: { path: 'v2/' } } },
      'envoy.siblingDefaults.healthCheck.path',
      'must start with "/", got "v2/"',
    ],
  ])('%s', (_name, envoy, path, message) => {
    expect(problems({ regions: 3, envoy })).toEqual([{ path, message }]);
  });

  test('ignorePortInHostMatching: true with regions sharing a host', () => {
    expect(problems({ regions: 3, loopback: true, envoy: { ignorePortInHostMatching: true } })).toEqual([
      {
        path: 'envoy.ignorePortInHostMatching',
        message: 'must be false: regions a and b share host 127.0.0.1, so virtual hosts must match host:port',
      },
    ]);
  });

  test('a TLS listener with http:// siblings is refused: credentials would cross in cleartext', () => {
    const tls = { certChain: '/tls/c.pem', privateKey: '/tls/k.pem' };
    const found = problems({ regions: 3, scheme: 'http', envoy: { listener: { tls } } });
    expect(found.map((p) => p.path)).toEqual(['regions[1].url', 'regions[2].url']);
    expect(found[0]?.message).toMatch(/^is http:\/\/ while envoy\.listener\.tls is set: .*cleartext/);
    // Allowed when the operator says so, and never a problem with https siblings.
    expect(
      makeConfig({ regions: 3, scheme: 'http', envoy: { listener: { tls, allowPlaintextSiblings: true } } })
        .envoy.listener.allowPlaintextSiblings,
    ).toBe(true);
    expect(makeConfig({ regions: 3, envoy: { listener: { tls } } }).envoy.listener.tls).toEqual(tls);
  });

  test('the message timeout is checked against the configured lookup timeouts too', () => {
    expect(
      problems({ regions: 2, lookupTimeoutMaxMs: 500, envoy: { extProc: { messageTimeoutMs: 300 } } }),
    ).toEqual([
      { path: 'envoy.extProc.messageTimeoutMs', message: 'must exceed lookupTimeoutMaxMs (500), got 300' },
    ]);
    // A minimum above the maximum is the longest deadline (the maximum reads as the minimum).
    expect(
      problems({ regions: 2, lookupTimeoutMs: 3_000, envoy: { extProc: { messageTimeoutMs: 2_500 } } }),
    ).toEqual([
      { path: 'envoy.extProc.messageTimeoutMs', message: 'must exceed lookupTimeoutMs (3000), got 2500' },
    ]);
  });
});
