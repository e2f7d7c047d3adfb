/**
 * Builds the complete static Envoy v3 bootstrap for this geosync's region from the same validated
 * configuration geosync reads. Two modes:
 * - `ext_proc` (Envoy >= 1.31): geosync is an upstream ext_proc filter of the local-registry pull
 *   cluster and turns a 404 into a 307 that the pull route's internal_redirect_policy follows to
 *   the sibling's virtual host (envoy-semantics.md §4, §5);
 * - `custom-response` (any Envoy with the custom_response filter): see fallback.ts.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto
 */
import type { GeosyncConfig } from '../config/schema';
import { localRegistryCluster, extProcCluster, siblingRegistryCluster } from './clusters';
import { upstreamFilters } from './ext-proc-filter';
import { customResponseFilter, customResponsePerRoute, notRedirectedMatcher } from './fallback';
import { admin, registryListener, routerFilter } from './listener';
import { NAMES, siblingCluster } from './names';
import {
  internalRedirectPolicy,
  localVirtualHost,
  siblingVirtualHosts,
  type PullRouteExtras,
  type Sibling,
} from './routes';
import { hasUpstreamExtProc, parseEnvoyVersion } from './version';

export type EnvoyMode = 'ext_proc' | 'custom-response';

export interface BootstrapRequest {
  /** Overrides `envoy.version` (the `--envoy-version` flag). */
  readonly version?: string;
  readonly mode?: EnvoyMode;
}

export type BootstrapResult =
  | { readonly ok: true; readonly bootstrap: Record<string, unknown>; readonly version: string }
  | { readonly ok: false; readonly problems: readonly string[] };

export function buildBootstrap(config: GeosyncConfig, request: BootstrapRequest = {}): BootstrapResult {
  const opts = config.envoy;
  const versionText = request.version ?? opts.version;
  const version = parseEnvoyVersion(versionText);
  const mode = request.mode ?? 'ext_proc';
  if (!version) return { ok: false, problems: [`envoy version must look like "1.31", got "${versionText}"`] };
  if (mode === 'ext_proc' && !hasUpstreamExtProc(version)) {
    return {
      ok: false,
      problems: [
        `Envoy ${versionText} cannot run ext_proc as an upstream filter (first in 1.31); ` +
          'use --fallback custom-response or a newer Envoy',
      ],
    };
  }

  const siblings: Sibling[] = config.preference.map((name) => {
    const region = config.regions.find((x) => x.name === name);
    const tuning = opts.siblings[name];
    if (!region || !tuning) throw new Error(`preference names unknown region ${name}`);
    return { name, url: region.url, tuning };
  });

  const extProc = mode === 'ext_proc';
  const first = siblings[0];
  const extras: PullRouteExtras = extProc
    ? siblings.length > 0
      ? { redirectPolicy: internalRedirectPolicy(siblings, opts) }
      : {}
    : first
      ? {
          headers: [notRedirectedMatcher()],
          typedPerFilterConfig: customResponsePerRoute(first, config.region),
        }
      : {};

  const routeConfig = {
    name: NAMES.routeConfig,
    virtual_hosts: [
      localVirtualHost(opts, NAMES.localRegistryCluster, extras),
      ...siblingVirtualHosts(siblings, opts.ignorePortInHostMatching),
    ],
    // "registry-a.example.com:443" must match the domain "registry-a.example.com", also in the
    // router's lookup of an internal-redirect target, which runs on the Location's `host:port`
    // (strip_any_host_port would not apply there, and would strip the Host the registry sees).
    // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route.proto (ignore_port_in_host_matching)
    ...(opts.ignorePortInHostMatching ? { ignore_port_in_host_matching: true } : {}),
  };
  const httpFilters = extProc || !first ? [routerFilter()] : [customResponseFilter(), routerFilter()];

  const clusters = [
    localRegistryCluster(
      NAMES.localRegistryCluster,
      opts,
      extProc ? upstreamFilters(opts, version) : undefined,
    ),
    localRegistryCluster(NAMES.localRegistryDirectCluster, opts),
    ...siblings.map((s) => siblingRegistryCluster(siblingCluster(s.name), s.url, s.tuning)),
    ...(extProc ? [extProcCluster(config.listen.grpc, opts)] : []),
  ];

  return {
    ok: true,
    version: versionText,
    bootstrap: {
      node: { id: `geosync-${config.region}`, cluster: 'geosync' },
      static_resources: { listeners: [registryListener(opts, routeConfig, httpFilters)], clusters },
      admin: admin(opts),
    },
  };
}
