/**
 * Route selection (router/config_impl.cc RouteMatcher::findVirtualHost, RouteEntryImplBase::matchRoute).
 * Virtual host by `:authority`: exact domain, then suffix wildcards (`*.example.com`, longest first),
 * then prefix wildcards (`registry.*`, longest first), then `*`. The port is removed first when the
 * HCM has strip_any_host_port, or strip_matching_host_port and it equals the listener's port
 * (conn_manager_utility.cc maybeNormalizeHost). First matching route wins.
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
  listenerPort: number,
): VirtualHost | undefined {
  const host = normalizeHost(hcm, authority, listenerPort);
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
