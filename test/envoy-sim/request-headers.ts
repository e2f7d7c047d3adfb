/**
 * The router's finalizeRequestHeaders (router.cc, config_impl.cc): request_headers_to_add/remove
 * (route level first, then the virtual host), host_rewrite_literal / auto_host_rewrite,
 * prefix_rewrite (with x-envoy-original-path), x-envoy-expected-rq-timeout-ms, and the upstream
 * :scheme. Applied in place to the downstream header map, as Envoy does, so an internal redirect
 * starts from the router-modified headers (§5.2 step 13).
 */
import type { ClusterConfig } from './bootstrap';
import type { HeaderMap } from './header-map';
import type { HeaderToAdd, RouteAction, RouteEntry, VirtualHost } from './route-config';

export /** Router finalizeRequestHeaders: headers_to_add/remove, host and prefix rewrites, timeout header, :scheme. */
function finalizeRequestHeaders(
  headers: HeaderMap,
  route: RouteEntry,
  vh: VirtualHost,
  action: RouteAction,
  cluster: ClusterConfig,
  endpoint: ClusterConfig['endpoints'][number],
): void {
  // Route level first, then the virtual host (route_components.proto request_headers_to_add).
  for (const name of [...route.requestHeadersToRemove, ...vh.requestHeadersToRemove]) headers.remove(name);
  for (const h of [...route.requestHeadersToAdd, ...vh.requestHeadersToAdd]) applyHeaderToAdd(headers, h);
  if (action.hostRewriteLiteral !== undefined) headers.set(':authority', action.hostRewriteLiteral);
  else if (action.autoHostRewrite && endpoint.kind === 'socket') headers.set(':authority', endpoint.host);
  if (action.prefixRewrite !== undefined) {
    const path = headers.get(':path') ?? '/';
    const matched = route.match.prefix ?? route.match.path;
    if (matched !== undefined) {
      headers.set('x-envoy-original-path', path);
      headers.set(':path', action.prefixRewrite + path.slice(matched.length));
    }
  }
  if (action.timeoutMs > 0) headers.set('x-envoy-expected-rq-timeout-ms', String(action.timeoutMs));
  else headers.remove('x-envoy-expected-rq-timeout-ms');
  headers.set(':scheme', cluster.tls ? 'https' : 'http');
}

function applyHeaderToAdd(headers: HeaderMap, h: HeaderToAdd): void {
  const exists = headers.has(h.key);
  switch (h.action) {
    case 'ADD_IF_ABSENT':
      if (!exists) headers.add(h.key, h.value);
      break;
    case 'OVERWRITE_IF_EXISTS_OR_ADD':
      headers.set(h.key, h.value);
      break;
    case 'OVERWRITE_IF_EXISTS':
      if (exists) headers.set(h.key, h.value);
      break;
    default:
      headers.add(h.key, h.value);
  }
}
