/**
 * The route table: the local virtual host (pull routes that may be redirected, a catch-all that
 * never is) and one virtual host per sibling region, matched by the Location geosync writes.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto
 * and "Internal redirects" in Envoy's HTTP connection management docs
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_connection_management#internal-redirects).
 */
import { HEADER } from '../extproc/headers';
import type { ClusterTuning, EnvoyOptions } from '../config/types';
import { duration, EXT, NAMES, siblingCluster, siblingRoute, siblingVirtualHost, TYPE } from './names';

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
  /** A repository's tag list (src/tag-list/): through the pull cluster, never redirected. */
  tagList: '^/v2/.+/tags/list$',
} as const;

export function methodMatcher(methods: readonly string[]): Json {
  return {
    name: ':method',
    string_match:
      methods.length === 1 ? { exact: methods[0] } : { safe_regex: { regex: `^(?:${methods.join('|')})$` } },
  };
}

/**
 * `redirectPolicy`: the pull routes' internal_redirect_policy (none without siblings). `tagLists`:
 * tag lists go through the pull cluster too, where geosync merges the siblings' tags in.
 */
export function localVirtualHost(
  opts: EnvoyOptions,
  pullCluster: string,
  redirectPolicy?: Json,
  tagLists = false,
): Json {
  const tuning = opts.localRegistry.tuning;
  const pull = (name: string, regex: string, methods: readonly string[], redirects = true): Json => ({
    name,
    match: { safe_regex: { regex }, headers: [methodMatcher(methods)] },
    route: {
      cluster: pullCluster,
      // timeout 0s: a multi-GB blob must not be cut by a total deadline; idle_timeout catches stalls.
      timeout: '0s',
      idle_timeout: duration(tuning.streamIdleTimeoutMs),
      // A copy per route: a consumer editing one route's policy must not change the other's.
      ...(redirectPolicy && redirects ? { internal_redirect_policy: structuredClone(redirectPolicy) } : {}),
    },
  });
  return {
    name: NAMES.localVirtualHost,
    // Exact sibling domains win over '*', so everything not addressed to a sibling is local.
    domains: ['*'],
    routes: [
      pull(NAMES.localPullManifestsRoute, PULL_PATH.manifests, ['GET', 'HEAD']),
      // Never a blob HEAD: push clients HEAD blobs to decide whether to upload, and a 200 from a
      // sibling would make them skip an upload the local manifest PUT then misses.
      pull(NAMES.localPullBlobsRoute, PULL_PATH.blobs, ['GET']),
      ...(tagLists ? [pull(NAMES.localTagListRoute, PULL_PATH.tagList, ['GET'], false)] : []),
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
 * The redirect policy of the pull routes: follow only geosync's 307, at most once, and only to a
 * sibling route. The allow-list also stops Envoy from following the registry's own 307 to object
 * storage internally (distribution's `redirect` option), which then reaches the client as before.
 * The marker header of geosync's 307 is copied into the redirected request before Envoy looks up
 * its route (source/common/router/router.cc, convertRequestHeadersForInternalRedirect), which is
 * what lets it match a sibling route at all.
 */
export function internalRedirectPolicy(siblings: readonly Sibling[], opts: EnvoyOptions): Json {
  const listenerScheme = opts.listener.tls ? 'https:' : 'http:';
  // The router refuses a Location whose scheme differs from the downstream's unless allowed
  // (router.cc, convertRequestHeadersForInternalRedirect: isCrossSchemeRedirectAllowed).
  const crossScheme = siblings.some((s) => new URL(s.url).protocol !== listenerScheme);
  return {
    max_internal_redirects: 1,
    redirect_response_codes: [307],
    ...(crossScheme ? { allow_cross_scheme_redirect: true } : {}),
    response_headers_to_copy: [HEADER.redirectMarker],
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

/**
 * One virtual host per sibling, whose only route takes requests that this Envoy redirected: a
 * client that sends a sibling's Host itself has no marker (the listener removes any it sends,
 * listener.ts) and gets Envoy's 404 (no route), never the sibling's content.
 */
export function siblingVirtualHosts(
  siblings: readonly Sibling[],
  ignorePortInHostMatching: boolean,
  self: string,
): Json[] {
  return siblings.map((s) => {
    const u = new URL(s.url);
    return {
      name: siblingVirtualHost(s.name),
      domains: siblingDomains(u, ignorePortInHostMatching),
      routes: [
        {
          name: siblingRoute(s.name),
          match: {
            safe_regex: { regex: PULL_PATH.either },
            headers: [methodMatcher(['GET', 'HEAD']), { name: HEADER.redirectMarker, present_match: true }],
          },
          route: {
            cluster: siblingCluster(s.name),
            host_rewrite_literal: u.host,
            timeout: '0s',
            idle_timeout: duration(s.tuning.streamIdleTimeoutMs),
          },
          // The marker has done its job; the sibling learns instead that this is a forwarded pull.
          request_headers_to_remove: [HEADER.redirectMarker],
          request_headers_to_add: [
            {
              header: { key: HEADER.forwardedBy, value: self },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          ],
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
