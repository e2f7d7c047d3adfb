/**
 * Route selection (router/config_impl.cc RouteMatcher::findVirtualHost, RouteEntryImplBase::matchRoute).
 * Virtual host by `:authority`: exact domain, then suffix wildcards (`*.example.com`, longest first),
 * then prefix wildcards (`registry.*`, longest first), then `*`. First matching route wins.
 *
 * Ports: strip_any_host_port / strip_matching_host_port rewrite the request's host when the
 * connection manager decodes the headers (conn_manager_utility.cc maybeNormalizeHost), not at
 * matching time. A route lookup on headers that were not decoded again, as the router's lookup for
 * an internal redirect target is, sees the port unless the route configuration sets
 * `ignore_port_in_host_matching` (config_impl.cc RouteMatcher::findVirtualHost).
 */
import type { HcmConfig } from './bootstrap';
import type { HeaderMap } from './header-map';
import type { RouteEntry, VirtualHost } from './route-config';

export interface RouteMatch {
  virtualHost: VirtualHost;
  route: RouteEntry;
}

export function selectRoute(
  hcm: HcmConfig,
  headers: HeaderMap,
  listenerPort: number,
): RouteMatch | undefined {
  const vh = selectVirtualHost(hcm, headers.get(':authority') ?? '', listenerPort);
  if (!vh) return undefined;
  const route = vh.routes.find((r) => routeMatches(r, headers));
  return route ? { virtualHost: vh, route } : undefined;
}

/** The HCM's decode-time host normalisation, applied to the request headers in place. */
export function normalizeRequestHost(hcm: HcmConfig, headers: HeaderMap, listenerPort: number): void {
  const authority = headers.get(':authority');
  if (authority !== undefined) headers.set(':authority', normalizeHost(hcm, authority, listenerPort));
}

export function normalizeHost(hcm: HcmConfig, authority: string, listenerPort: number): string {
  const host = authority.toLowerCase();
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!m || m[2] === undefined) return host;
  if (hcm.stripAnyHostPort || (hcm.stripMatchingHostPort && Number(m[2]) === listenerPort))
    return m[1] ?? host;
  return host;
}

export function selectVirtualHost(
  hcm: HcmConfig,
  authority: string,
  _listenerPort: number,
): VirtualHost | undefined {
  const lower = authority.toLowerCase();
  const host = hcm.routeConfig.ignorePortInHostMatching ? lower.replace(/:\d+$/, '') : lower;
  const vhs = hcm.routeConfig.virtualHosts;
  const exact = vhs.find((vh) => vh.domains.includes(host));
  if (exact) return exact;
  let best: { vh: VirtualHost; len: number } | undefined;
  for (const vh of vhs)
    for (const d of vh.domains)
      if (d.length > 1 && d.startsWith('*') && host.endsWith(d.slice(1)) && host.length > d.length - 1)
        if (!best || d.length > best.len) best = { vh, len: d.length };
  if (best) return best.vh;
  for (const vh of vhs)
    for (const d of vh.domains)
      if (d.length > 1 && d.endsWith('*') && host.startsWith(d.slice(0, -1)) && host.length > d.length - 1)
        if (!best || d.length > best.len) best = { vh, len: d.length };
  if (best) return best.vh;
  return vhs.find((vh) => vh.domains.includes('*'));
}

function routeMatches(route: RouteEntry, headers: HeaderMap): boolean {
  const fullPath = headers.get(':path') ?? '';
  const m = route.match;
  const norm = (s: string) => (m.caseSensitive ? s : s.toLowerCase());
  let pathOk: boolean;
  if (m.prefix !== undefined)
    pathOk = norm(fullPath).startsWith(norm(m.prefix)); // whole :path
  else if (m.path !== undefined)
    pathOk = norm(stripQuery(fullPath)) === norm(m.path); // query removed
  else pathOk = m.regex !== undefined && m.regex.test(stripQuery(fullPath)); // query removed, full match
  if (!pathOk) return false;
  return m.headers.every((h) => h.match(headers.getJoined(h.name)));
}

export function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}
