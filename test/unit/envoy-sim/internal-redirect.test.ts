/** §5.2 convertRequestHeadersForInternalRedirect as a pure function: order of checks and rewrites. */
import { HeaderMap } from '../../envoy-sim/header-map';
import {
  type RedirectInput,
  newRedirectFilterState,
  parseAbsoluteUrl,
  tryInternalRedirect,
} from '../../envoy-sim/internal-redirect';
import type { InternalRedirectPolicy, RouteEntry } from '../../envoy-sim/route-config';

const policy = (p: Partial<InternalRedirectPolicy> = {}): InternalRedirectPolicy => ({
  maxInternalRedirects: 1,
  redirectResponseCodes: new Set([307]),
  allowCrossSchemeRedirect: false,
  responseHeadersToCopy: [],
  predicates: [],
  ...p,
});

const route = { name: 'local_pull' } as RouteEntry;

function input(
  over: Partial<RedirectInput> = {},
  location = 'http://sibling.example:8080/v2/a/blobs/x#frag',
): RedirectInput {
  return {
    route,
    policy: policy(),
    status: 307,
    requestHeaders: new HeaderMap([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'registry.local'],
      [':path', '/v2/a/blobs/x'],
      ['authorization', 'Bearer t'],
    ]),
    responseHeaders: new HeaderMap([
      [':status', '307'],
      ['location', location],
    ]),
    downstreamComplete: true,
    requestBodyBytes: 0,
    downstreamTls: false,
    state: newRedirectFilterState(),
    lookupRouteName: (h) => (h.get(':authority')?.startsWith('sibling') ? 'sibling_pull' : undefined),
    ...over,
  };
}

describe('tryInternalRedirect', () => {
  it('rewrites :scheme/:authority/:path (fragment dropped), keeps other headers, adds x-envoy-original-url', () => {
    const i = input();
    expect(tryInternalRedirect(i)).toEqual({ ok: true });
    const h = i.requestHeaders;
    expect(h.get(':authority')).toBe('sibling.example:8080');
    expect(h.get(':path')).toBe('/v2/a/blobs/x');
    expect(h.get('authorization')).toBe('Bearer t');
    expect(h.get('x-envoy-original-url')).toBe('http://registry.local/v2/a/blobs/x');
    expect(i.state.numInternalRedirects).toBe(1);
  });

  it.each([
    ['request incomplete', { downstreamComplete: false }, undefined],
    ['request has a body', { requestBodyBytes: 3 }, undefined],
  ])('fails when the %s, before any stat', (_l, over, stat) => {
    const r = tryInternalRedirect(input(over));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.stat).toBe(stat ?? undefined);
  });

  it.each([
    ['/v2/a/blobs/x', 'passthrough_internal_redirect_bad_location'],
    ['', 'passthrough_internal_redirect_bad_location'],
    ['//host/x', 'passthrough_internal_redirect_bad_location'],
    ['https://sibling.example/x', 'passthrough_internal_redirect_unsafe_scheme'],
    ['http://unknown.example/x', 'passthrough_internal_redirect_no_route'],
  ])('location %j fails with %s and leaves the request headers unchanged', (location, stat) => {
    const i = input({}, location);
    const before = i.requestHeaders.toArray();
    const r = tryInternalRedirect(i);
    expect(!r.ok && r.stat).toBe(stat);
    expect(i.requestHeaders.toArray()).toEqual(before);
    expect(i.state.numInternalRedirects).toBe(0);
  });

  it('allow_cross_scheme_redirect lets http → https through; safe_cross_scheme still refuses it', () => {
    const loc = 'https://sibling.example/x';
    expect(tryInternalRedirect(input({ policy: policy({ allowCrossSchemeRedirect: true }) }, loc)).ok).toBe(
      true,
    );
    const r = tryInternalRedirect(
      input(
        { policy: policy({ allowCrossSchemeRedirect: true, predicates: [{ kind: 'safe_cross_scheme' }] }) },
        loc,
      ),
    );
    expect(!r.ok && r.stat).toBe('passthrough_internal_redirect_predicate');
  });

  it('counts against the current route max per downstream request', () => {
    const state = newRedirectFilterState();
    state.numInternalRedirects = 1;
    const r = tryInternalRedirect(input({ state }));
    expect(!r.ok && r.stat).toBe('passthrough_internal_redirect_too_many_redirects');
    expect(tryInternalRedirect(input({ state, policy: policy({ maxInternalRedirects: 2 }) })).ok).toBe(true);
  });

  it('allow_listed_routes checks the TARGET route name', () => {
    const p = (names: string[]) =>
      policy({ predicates: [{ kind: 'allow_listed_routes', names: new Set(names) }] });
    expect(tryInternalRedirect(input({ policy: p(['sibling_pull']) })).ok).toBe(true);
    const r = tryInternalRedirect(input({ policy: p(['local_pull']) }));
    expect(!r.ok && r.stat).toBe('passthrough_internal_redirect_predicate');
  });

  it('previous_routes refuses a target already reached from the same route', () => {
    const state = newRedirectFilterState();
    const p = policy({ maxInternalRedirects: 5, predicates: [{ kind: 'previous_routes' }] });
    expect(tryInternalRedirect(input({ state, policy: p })).ok).toBe(true);
    const r = tryInternalRedirect(input({ state, policy: p }));
    expect(!r.ok && r.stat).toBe('passthrough_internal_redirect_predicate');
  });

  it('303 turns POST into GET and drops content-length; 307 keeps the method', () => {
    const i = input({ status: 303 });
    i.requestHeaders.set(':method', 'POST');
    i.requestHeaders.set('content-length', '0');
    expect(tryInternalRedirect(i).ok).toBe(true);
    expect(i.requestHeaders.get(':method')).toBe('GET');
    expect(i.requestHeaders.has('content-length')).toBe(false);
    const j = input();
    j.requestHeaders.set(':method', 'HEAD');
    tryInternalRedirect(j);
    expect(j.requestHeaders.get(':method')).toBe('HEAD');
  });

  it('response_headers_to_copy copies present headers and removes absent ones', () => {
    const i = input({ policy: policy({ responseHeadersToCopy: ['x-copied', 'x-absent'] }) });
    i.requestHeaders.set('x-absent', 'from-client');
    i.responseHeaders.set('x-copied', 'from-3xx');
    expect(tryInternalRedirect(i).ok).toBe(true);
    expect(i.requestHeaders.get('x-copied')).toBe('from-3xx');
    expect(i.requestHeaders.has('x-absent')).toBe(false);
  });

  it('parseAbsoluteUrl keeps an explicit port and defaults the path to /', () => {
    expect(parseAbsoluteUrl('https://h.example:443')).toEqual({
      scheme: 'https',
      hostAndPort: 'h.example:443',
      pathAndQuery: '/',
    });
    expect(parseAbsoluteUrl('http://u:p@h/x?y=1')).toEqual({
      scheme: 'http',
      hostAndPort: 'h',
      pathAndQuery: '/x?y=1',
    });
  });
});
