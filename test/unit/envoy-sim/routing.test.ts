/** Route selection (router/config_impl.cc): virtual hosts by :authority, then the first matching route. */
import type { HcmConfig } from '../../envoy-sim/bootstrap';
import { HeaderMap } from '../../envoy-sim/header-map';
import { parseRouteConfig } from '../../envoy-sim/route-config';
import { normalizeHost, selectRoute, selectVirtualHost } from '../../envoy-sim/routing';

const route = (name: string, match: object) => ({ name, match, route: { cluster: 'c' } });

function hcm(strip: Partial<HcmConfig> = {}): HcmConfig {
  return {
    statPrefix: 'ingress',
    stripAnyHostPort: false,
    stripMatchingHostPort: false,
    streamIdleTimeoutMs: 0,
    requestTimeoutMs: 0,
    maxHeadersCount: 100,
    maxRequestHeadersKb: 60,
    ...strip,
    routeConfig: parseRouteConfig(
      {
        virtual_hosts: [
          {
            name: 'exact',
            domains: ['registry.example', 'withport.example:8443'],
            routes: [route('e', { prefix: '/' })],
          },
          { name: 'suffix', domains: ['*.example'], routes: [route('s', { prefix: '/' })] },
          { name: 'longer-suffix', domains: ['*.eu.example'], routes: [route('ls', { prefix: '/' })] },
          { name: 'prefix', domains: ['registry.*'], routes: [route('p', { prefix: '/' })] },
          {
            name: 'any',
            domains: ['*'],
            routes: [
              route('exact-path', { path: '/v2/' }),
              route('pull', {
                safe_regex: { regex: '^/v2/.+/(manifests|blobs)/[^/]+$' },
                headers: [{ name: ':method', string_match: { safe_regex: { regex: '^(GET|HEAD)$' } } }],
              }),
              route('ci-prefix', { prefix: '/Upper', case_sensitive: false }),
              route('tagged', { prefix: '/t', headers: [{ name: 'x-tag', exact_match: 'yes' }] }),
              route('absent', { prefix: '/a', headers: [{ name: 'x-tag', present_match: false }] }),
            ],
          },
        ],
      },
      'route_config',
    ),
  };
}

const req = (authority: string, path = '/', method = 'GET', extra: [string, string][] = []) =>
  new HeaderMap([[':authority', authority], [':path', path], [':method', method], ...extra]);

describe('virtual host selection', () => {
  it.each([
    ['registry.example', {}, 'exact'],
    ['REGISTRY.example', {}, 'exact'],
    ['registry.example:5000', {}, 'prefix'], // port kept: no exact match, `registry.*` does
    ['registry.example:5000', { stripAnyHostPort: true }, 'exact'],
    ['registry.example:8080', { stripMatchingHostPort: true }, 'exact'],
    ['a.example:9999', { stripMatchingHostPort: true }, 'any'], // other port kept: `*.example` fails
    ['withport.example:8443', {}, 'exact'],
    ['a.example', {}, 'suffix'],
    ['a.eu.example', {}, 'longer-suffix'],
    ['registry.other', {}, 'prefix'],
    ['elsewhere.io', {}, 'any'],
  ])('%s with %j → %s', (authority, strip, want) => {
    // A decoded request: the connection manager normalises the host first.
    const h = hcm(strip);
    expect(selectVirtualHost(h, normalizeHost(h, authority, 8080), 8080)?.name).toBe(want);
  });

  it('a redirect target lookup (no decode step) keeps the port unless ignore_port_in_host_matching', () => {
    const h = hcm({ stripAnyHostPort: true });
    expect(selectVirtualHost(h, 'registry.example:5000', 8080)?.name).toBe('prefix');
    h.routeConfig.ignorePortInHostMatching = true;
    expect(selectVirtualHost(h, 'registry.example:5000', 8080)?.name).toBe('exact');
  });
});

describe('route match', () => {
  const pick = (h: HeaderMap) => selectRoute(hcm(), h, 8080)?.route.name;
  it('path and safe_regex ignore the query; regex is a full match', () => {
    expect(pick(req('x.io', '/v2/?q=1'))).toBe('exact-path');
    expect(pick(req('x.io', '/v2/a/b/manifests/latest?ns=docker.io'))).toBe('pull');
    expect(pick(req('x.io', '/v2/a/b/manifests/latest/extra'))).toBeUndefined();
  });
  it('matches :method through a header matcher', () => {
    expect(pick(req('x.io', '/v2/a/blobs/sha256:1', 'HEAD'))).toBe('pull');
    expect(pick(req('x.io', '/v2/a/blobs/sha256:1', 'DELETE'))).toBeUndefined();
  });
  it('case_sensitive: false, exact_match and present_match: false', () => {
    expect(pick(req('x.io', '/upperCASE'))).toBe('ci-prefix');
    expect(pick(req('x.io', '/t', 'GET', [['x-tag', 'yes']]))).toBe('tagged');
    expect(pick(req('x.io', '/t'))).toBeUndefined();
    expect(pick(req('x.io', '/a'))).toBe('absent');
    expect(pick(req('x.io', '/a', 'GET', [['x-tag', '1']]))).toBeUndefined();
  });
});
