/**
 * The router's internal redirect (§5.2): router.cc setupRedirect and
 * convertRequestHeadersForInternalRedirect, check for check and in the same order. On success the
 * request headers are rewritten in place (the caller re-runs route selection: recreateStream, §5.3);
 * on failure they are restored and the 3xx goes to the client.
 */
import type { HeaderMap } from './header-map';
import type { InternalRedirectPolicy, RouteEntry } from './route-config';

/** Filter state with LifeSpan Request: survives recreateStream (§5.2 step 7, previous_routes). */
export interface RedirectFilterState {
  numInternalRedirects: number;
  /** previous_routes predicate state, per route that issued the redirect. */
  previousRoutes: Map<string, Set<string>>;
}

export function newRedirectFilterState(): RedirectFilterState {
  return { numInternalRedirects: 0, previousRoutes: new Map() };
}

/** Router stats (`http.<prefix>.passthrough_internal_redirect_*`) a failure may count. */
export type RedirectFailureStat =
  | 'passthrough_internal_redirect_bad_location'
  | 'passthrough_internal_redirect_unsafe_scheme'
  | 'passthrough_internal_redirect_too_many_redirects'
  | 'passthrough_internal_redirect_no_route'
  | 'passthrough_internal_redirect_predicate';

export type RedirectResult = { ok: true } | { ok: false; reason: string; stat?: RedirectFailureStat };

export interface RedirectInput {
  /** The route that produced the 3xx; its policy governs (§5.2 step 7, §5.4). */
  route: RouteEntry;
  policy: InternalRedirectPolicy;
  status: number;
  /** The downstream request headers, as the router modified them; rewritten in place on success. */
  requestHeaders: HeaderMap;
  responseHeaders: HeaderMap;
  /** downstream_end_stream_ */
  downstreamComplete: boolean;
  /** Request body bytes received: redirects with a body are not modelled as followed. */
  requestBodyBytes: number;
  /** The downstream connection is TLS (schemeIsHttp uses :scheme, then the connection). */
  downstreamTls: boolean;
  state: RedirectFilterState;
  /** Route lookup on the rewritten headers (the cleared route cache). */
  lookupRouteName: (headers: HeaderMap) => string | undefined;
}

interface ParsedLocation {
  scheme: string;
  hostAndPort: string;
  pathAndQuery: string;
}

/**
 * Http::Utility::Url::initialize(url, false): needs a scheme and a host; a relative reference such
 * as `/v2/...` fails. The authority keeps an explicit port as written (hostAndPort).
 */
export function parseAbsoluteUrl(url: string): ParsedLocation | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]+)(.*)$/.exec(url);
  if (!m?.[1] || !m[2]) return undefined;
  const authority = m[2].includes('@') ? m[2].slice(m[2].lastIndexOf('@') + 1) : m[2];
  if (authority === '' || /\s/.test(url)) return undefined;
  let rest = m[3] ?? '';
  if (!rest.startsWith('/')) rest = `/${rest}`;
  return { scheme: m[1].toLowerCase(), hostAndPort: authority, pathAndQuery: rest };
}

function schemeIsHttp(s: string | undefined): boolean {
  return (s ?? '').toLowerCase() === 'http';
}

/** setupRedirect + convertRequestHeadersForInternalRedirect (router.cc). */
export function tryInternalRedirect(input: RedirectInput): RedirectResult {
  const { policy, requestHeaders: headers, state } = input;
  // 1. "Redirects are not supported for streaming requests yet."
  if (!input.downstreamComplete) return { ok: false, reason: 'request incomplete' };
  // 2. Old recreateStream refuses a request that had a body; newer code would replay a buffered one.
  if (input.requestBodyBytes > 0) return { ok: false, reason: 'request has a body' };
  // 3. location present.
  const location = input.responseHeaders.get('location');
  if (location === undefined) return { ok: false, reason: 'missing location header' };
  // 4. the request has a :path.
  if (!headers.has(':path')) return { ok: false, reason: 'no path in downstream headers' };
  // 5. non-empty, absolute.
  const url = location === '' ? undefined : parseAbsoluteUrl(location);
  if (!url)
    return {
      ok: false,
      reason: `invalid location '${location}'`,
      stat: 'passthrough_internal_redirect_bad_location',
    };
  // 6. scheme: downstream http-ness is the :scheme header, or a non-TLS connection (not XFP).
  const downstreamIsHttp = schemeIsHttp(headers.get(':scheme')) || !input.downstreamTls;
  const targetIsHttp = schemeIsHttp(url.scheme);
  if (!policy.allowCrossSchemeRedirect && downstreamIsHttp !== targetIsHttp)
    return { ok: false, reason: 'incorrect scheme', stat: 'passthrough_internal_redirect_unsafe_scheme' };
  // 7. the count, against the current route's max_internal_redirects.
  if (state.numInternalRedirects >= policy.maxInternalRedirects)
    return {
      ok: false,
      reason: 'redirect limits exceeded',
      stat: 'passthrough_internal_redirect_too_many_redirects',
    };

  const saved = headers.clone();
  const restore = (r: RedirectResult): RedirectResult => {
    headers.replaceWith(saved);
    return r;
  };
  // 8. response_headers_to_copy: copied from the 3xx; absent in the 3xx → removed from the request.
  for (const name of policy.responseHeadersToCopy) {
    const values = input.responseHeaders.getAll(name);
    headers.remove(name);
    for (const v of values) headers.add(name, v);
  }
  // 9. rewrite :scheme, :authority, :path (fragment dropped: http_reject_path_with_fragment).
  headers.set(':scheme', url.scheme);
  headers.set(':authority', url.hostAndPort);
  headers.set(':path', url.pathAndQuery.split('#')[0] ?? '/');
  // 10. route lookup on the new headers.
  const target = input.lookupRouteName(headers);
  if (target === undefined)
    return restore({ ok: false, reason: 'no route found', stat: 'passthrough_internal_redirect_no_route' });
  // 11. predicates get the TARGET route name.
  for (const p of policy.predicates) {
    if (!acceptTargetRoute(p, input.route.name, target, !downstreamIsHttp, !targetIsHttp, state))
      return restore({
        ok: false,
        reason: `rejected by ${p.kind}`,
        stat: 'passthrough_internal_redirect_predicate',
      });
  }
  // 12. RFC 7231 §6.4.4: 303 turns a non-GET/HEAD into GET. No other code changes the method.
  const method = headers.get(':method');
  if (input.status === 303 && method !== 'GET' && method !== 'HEAD') {
    headers.set(':method', 'GET');
    headers.remove('content-length');
  }
  // 13. count, then x-envoy-original-url from the saved (router-modified) headers.
  state.numInternalRedirects += 1;
  headers.set(
    'x-envoy-original-url',
    `${downstreamIsHttp ? 'http' : 'https'}://${saved.get(':authority') ?? ''}${saved.get(':path') ?? ''}`,
  );
  return { ok: true };
}

function acceptTargetRoute(
  p: InternalRedirectPolicy['predicates'][number],
  currentRoute: string,
  target: string,
  downstreamIsHttps: boolean,
  targetIsHttps: boolean,
  state: RedirectFilterState,
): boolean {
  switch (p.kind) {
    case 'allow_listed_routes':
      return p.names.has(target);
    case 'previous_routes': {
      // previous_routes.cc: per issuing route, reject a target already reached; otherwise remember it.
      const seen = state.previousRoutes.get(currentRoute) ?? new Set<string>();
      state.previousRoutes.set(currentRoute, seen);
      if (seen.has(target)) return false;
      seen.add(target);
      return true;
    }
    case 'safe_cross_scheme':
      // safe_cross_scheme.cc: https → http allowed, http → https not.
      return downstreamIsHttps || !targetIsHttps;
  }
}
