/**
 * The route table: the local virtual host (pull routes that may be redirected, a catch-all that
 * never is) and one virtual host per sibling region, matched by the Location geosync writes.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto
 * and "Internal redirects" in Envoy's HTTP connection management docs (envoy-semantics.md §5).
 */
import type { ClusterTuning } from './cluster-options';
import { duration, EXT, NAMES, siblingCluster, siblingRoute, siblingVirtualHost, TYPE } from './names';
import type { EnvoyOptions } from './options';

type Json = Record<string, unknown>;

export interface Sibling {
  readonly name: string;
  readonly url: string;
  readonly tuning: ClusterTuning;
}

/**
 * RE2 full-match patterns (Envoy matches the path without the query). geosync applies the exact
 * OCI grammar itself; these only keep pushes, uploads and the catalog away from the pull cluster.
 */
export const PULL_PATH = {
  manifests: '^/v2/.+/manifests/[^/]+$',
  blobs: '^/v2/.+/blobs/[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$',
  either: '^/v2/.+/(?:manifests/[^/]+|blobs/[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$',
} as const;

export function methodMatcher(methods: readonly string[]): Json {
  return {
    name: ':method',
    string_match:
      methods.length === 1 ? { exact: methods[0] } : { safe_regex: { regex: `^(?:${methods.join('|')})$` } },
  };
}

/** Extra per-route pieces the two modes add: a header condition and per-filter config. */
export interface PullRouteExtras {
  readonly headers?: Json[];
  readonly typedPerFilterConfig?: Json;
  readonly redirectPolicy?: Json;
}

export function localVirtualHost(opts: EnvoyOptions, pullCluster: string, extras: PullRouteExtras): Json {
  const tuning = opts.localRegistry.tuning;
  const pull = (name: string, regex: string, methods: readonly string[]): Json => ({
    name,
    match: { safe_regex: { regex }, headers: [methodMatcher(methods), ...(extras.headers ?? [])] },
    route: {
      cluster: pullCluster,
      // timeout 0s: a multi-GB blob must not be cut by a total deadline; idle_timeout catches stalls.
      timeout: '0s',
      idle_timeout: duration(tuning.streamIdleTimeoutMs),
      // A copy per route: a consumer editing one route's policy must not change the other's.
      ...(extras.redirectPolicy ? { internal_redirect_policy: structuredClone(extras.redirectPolicy) } : {}),
    },
    ...(extras.typedPerFilterConfig
      ? { typed_per_filter_config: structuredClone(extras.typedPerFilterConfig) }
      : {}),
  });
  return {
    name: NAMES.localVirtualHost,
    // Exact sibling domains win over '*', so everything not addressed to a sibling is local.
    domains: ['*'],
    routes: [
      pull(NAMES.localPullManifestsRoute, PULL_PATH.manifests, ['GET', 'HEAD']),
      // Never a blob HEAD: push clients HEAD blobs to decide whether to upload (pitfalls.md #1).
      pull(NAMES.localPullBlobsRoute, PULL_PATH.blobs, ['GET']),
      {
        name: NAMES.localOtherRoute,
        match: { prefix: '/' },
        route: {
          cluster: NAMES.localRegistryDirectCluster,
          timeout: '0s',
          idle_timeout: duration(tuning.streamIdleTimeoutMs),
        },
      },
    ],
  };
}

/**
 * The ext_proc-mode redirect policy of the pull routes: follow only geosync's 307, at most once,
 * and only to a sibling route. The allow-list also stops Envoy from following the registry's own
 * 307 to object storage internally (pitfalls.md #10).
 */
export function internalRedirectPolicy(siblings: readonly Sibling[], opts: EnvoyOptions): Json {
  const listenerScheme = opts.listener.tls ? 'https:' : 'http:';
  // The router refuses a Location whose scheme differs from the downstream's (§5.2 step 6).
  const crossScheme = siblings.some((s) => new URL(s.url).protocol !== listenerScheme);
  return {
    max_internal_redirects: 1,
    redirect_response_codes: [307],
    ...(crossScheme ? { allow_cross_scheme_redirect: true } : {}),
    predicates: [
      {
        name: EXT.allowListedRoutes,
        typed_config: {
          '@type': TYPE.allowListedRoutes,
          allowed_route_names: siblings.map((s) => siblingRoute(s.name)),
        },
      },
      { name: EXT.previousRoutes, typed_config: { '@type': TYPE.previousRoutes } },
    ],
  };
}

export function siblingVirtualHosts(siblings: readonly Sibling[], ignorePortInHostMatching: boolean): Json[] {
  return siblings.map((s) => {
    const u = new URL(s.url);
    return {
      name: siblingVirtualHost(s.name),
      domains: siblingDomains(u, ignorePortInHostMatching),
      routes: [
        {
          name: siblingRoute(s.name),
          // Only pulls: this virtual host is reachable by any client that sends the sibling's
          // Host, so it must not become a general proxy to the sibling region.
          match: { safe_regex: { regex: PULL_PATH.either }, headers: [methodMatcher(['GET', 'HEAD'])] },
          route: {
            cluster: siblingCluster(s.name),
            host_rewrite_literal: u.host,
            timeout: '0s',
            idle_timeout: duration(s.tuning.streamIdleTimeoutMs),
          },
        },
      ],
    };
  });
}

/** With ports stripped, the host alone; otherwise host:port as geosync writes it (and the default port spelled out). */
function siblingDomains(u: URL, ignorePortInHostMatching: boolean): string[] {
  if (ignorePortInHostMatching) return [u.hostname];
  if (u.port !== '') return [u.host];
  return [u.host, `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}`];
}
