/**
 * Builds the complete static Envoy v3 bootstrap for this geosync's region from the same validated
 * configuration geosync reads: geosync is an upstream ext_proc filter of the local-registry pull
 * cluster and turns a 404 into a 307 that the pull route's internal_redirect_policy follows to the
 * sibling's virtual host. For the Envoy releases releases.ts names (the tests run 1.39.3 and
 * 1.40.0; scripts/envoy-versions says why 1.39).
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto
 */
import type { GeosyncConfig } from '../config/types';
import { localRegistryCluster, extProcCluster, siblingRegistryCluster } from './clusters';
import { upstreamFilters, type UpstreamFilterOptions } from './ext-proc-filter';
import { admin, overloadManager, registryListener, routerFilter } from './listener';
import { NAMES, siblingCluster } from './names';
import { internalRedirectPolicy, localVirtualHost, siblingVirtualHosts, type Sibling } from './routes';

export function buildBootstrap(config: GeosyncConfig): Record<string, unknown> {
  const opts = config.envoy;
  const siblings = siblingsOf(config);
  const tagLists = tagListsOn(config);
  const routeConfig = {
    name: NAMES.routeConfig,
    virtual_hosts: [
      localVirtualHost(
        opts,
        NAMES.localRegistryCluster,
        siblings.length > 0 ? internalRedirectPolicy(siblings, opts) : undefined,
        tagLists,
      ),
      ...siblingVirtualHosts(siblings, opts.ignorePortInHostMatching, config.region),
    ],
    // "registry-a.example.com:443" must match the domain "registry-a.example.com", also in the
    // router's lookup of an internal-redirect target, which runs on the Location's `host:port`
    // (strip_any_host_port would not apply there, and would strip the Host the registry sees).
    // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route.proto (ignore_port_in_host_matching)
    ...(opts.ignorePortInHostMatching ? { ignore_port_in_host_matching: true } : {}),
  };

  const clusters = [
    localRegistryCluster(NAMES.localRegistryCluster, opts, upstreamFilters(opts, filterOptions(config))),
    localRegistryCluster(NAMES.localRegistryDirectCluster, opts),
    ...siblings.map((s) => siblingRegistryCluster(siblingCluster(s.name), s.url, s.tuning)),
    extProcCluster(config.listen.grpc, opts),
  ];

  return {
    node: { id: `geosync-${config.region}`, cluster: 'geosync' },
    static_resources: { listeners: [registryListener(opts, routeConfig, [routerFilter()])], clusters },
    admin: admin(opts),
    overload_manager: overloadManager(opts),
  };
}

/** The sibling regions in preference order, with their cluster tuning. */
export function siblingsOf(config: GeosyncConfig): Sibling[] {
  return config.preference.map((name) => {
    const region = config.regions.find((x) => x.name === name);
    const tuning = config.envoy.siblings[name];
    if (!region || !tuning) throw new Error(`preference names unknown region ${name}`);
    return { name, url: region.url, tuning };
  });
}

function tagListsOn(config: GeosyncConfig): boolean {
  return config.preference.length > 0 && config.freshness.tagListMaxStalenessMs > 0;
}

/** What the upstream ext_proc matcher lets through to geosync, from the configuration. */
export function filterOptions(config: GeosyncConfig): UpstreamFilterOptions {
  return {
    tagFreshness: tagFreshnessScope(config),
    tagLists: tagListsOn(config),
    basicUsers: config.pushCheckBasicUsers.length > 0,
  };
}

/** Which local 200s the matcher sends to geosync (src/tag-freshness/bound.ts decides the same). */
function tagFreshnessScope(config: GeosyncConfig): UpstreamFilterOptions['tagFreshness'] {
  if (config.freshness.tagMaxStalenessMs > 0) return 'all';
  return config.freshness.signatureTagMaxStalenessMs > 0 ? 'referrers' : 'none';
}
