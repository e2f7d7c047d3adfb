/**
 * What an Envoy expert would try first without geosync: Envoy retries a pull the local registry
 * answers 404 on the other regions, with Envoy's own retry policy
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy):
 * `retry_on: retriable-status-codes` with `retriable_status_codes: [404]`, on a route whose cluster
 * is an aggregate cluster (the local registry first, then each sibling,
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/aggregate_cluster), and
 * the `envoy.retry_priorities.previous_priorities` retry priority (update_frequency 1) so that each
 * retry skips the clusters already tried: local, then the first sibling, then the next. Nothing
 * here is geosync's; its generator knows nothing of it.
 *
 * - Checked on Envoy 1.40.0 (docs/benchmarks.md, "Envoy's own retry of a 404"): without the retry priority
 *   every retry goes to the local registry again and nothing is rescued; with it, a pull the local
 *   registry answers 404 is answered 200 by the first sibling that holds it (Envoy's docs say
 *   PriorityLoad retry plugins do not work with aggregate clusters; this release does honour it).
 * - `auto_host_rewrite` with each sibling endpoint's `hostname`: a sibling attempt carries the
 *   sibling's host (Envoy rewrites it per attempt, source/common/router/upstream_request.cc), as a
 *   client pulling there directly would; the local attempt keeps the client's.
 * - `x-geosync-forwarded-by` on every attempt: the siblings here run geosync, whose Envoy then
 *   answers what that region holds and asks no geosync (an Envoy-only deployment has none to ask);
 *   the local registry ignores the header.
 * - The route covers GET and HEAD of anything under /v2/: a 404 does not say whether a puller or a
 *   pusher asked, so a push's existence checks are retried as well; other methods (uploads,
 *   manifest PUTs) go to the local registry only.
 * - Every cluster keeps the generated bootstrap's limits (1,024 connections, 65,536 pending and
 *   active requests), and parallel retries are raised to 65,536 too: with Envoy's default (3
 *   retries in flight per cluster) 260 of a 100-client herd's 300 requests came back as 404s
 *   (upstream_rq_retry_overflow).
 * - Envoy waits a jittered back-off before each retry (25 ms base by default); 1 ms here, so the
 *   retry pays no wait that geosync's redirect does not.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { startEnvoy, type EnvoyProcess } from '../../support/envoy/envoy';
import { freePort } from '../../support/net/ports';
import { HEADER } from '../../../src/extproc/headers';

export interface RetryEnvoyOptions {
  readonly listen: { readonly address: string; readonly port: number };
  readonly adminPort: number;
  /** The local registry. */
  readonly local: { readonly host: string; readonly port: number };
  /** The siblings in the order the retries try them, at their regions' `url` (host and port). */
  readonly siblings: readonly { readonly name: string; readonly host: string; readonly port: number }[];
  /** The region this Envoy stands in (`x-geosync-forwarded-by`). */
  readonly region: string;
}

const LIMITS = {
  thresholds: [
    {
      priority: 'DEFAULT',
      max_connections: 1024,
      max_pending_requests: 65536,
      max_requests: 65536,
      max_retries: 65536,
    },
  ],
};
const HTTP1 = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    common_http_protocol_options: { idle_timeout: '60s' },
    explicit_http_config: { http_protocol_options: {} },
  },
};

function cluster(name: string, host: string, port: number, connectTimeout: string, hostname?: string) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: connectTimeout,
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: { socket_address: { address: host, port_value: port } },
                ...(hostname ? { hostname } : {}),
              },
            },
          ],
        },
      ],
    },
    typed_extension_protocol_options: HTTP1,
    circuit_breakers: LIMITS,
  };
}

export const siblingCluster = (name: string): string => `sibling_${name}`;

/** The bootstrap of the retrying Envoy, as an object (`stringify` it for Envoy). */
export function retryBootstrap(o: RetryEnvoyOptions): object {
  const route = { cluster: 'registry', timeout: '0s', idle_timeout: '300s' };
  const retryPolicy = {
    retry_on: 'retriable-status-codes',
    retriable_status_codes: [404],
    num_retries: o.siblings.length,
    retry_priority: {
      name: 'envoy.retry_priorities.previous_priorities',
      typed_config: {
        '@type':
          'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
        update_frequency: 1,
      },
    },
    retry_back_off: { base_interval: '0.001s', max_interval: '0.001s' },
  };
  const pull = {
    name: 'pull_or_retry',
    match: {
      prefix: '/v2/',
      headers: [{ name: ':method', string_match: { safe_regex: { regex: '^(?:GET|HEAD)$' } } }],
    },
    route: { ...route, auto_host_rewrite: true, retry_policy: retryPolicy },
    request_headers_to_add: [
      {
        header: { key: HEADER.forwardedBy, value: o.region },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ],
  };
  const manager = {
    '@type':
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 'registry_ingress',
    normalize_path: true,
    route_config: {
      name: 'registry_routes',
      virtual_hosts: [
        { name: 'local', domains: ['*'], routes: [pull, { name: 'other', match: { prefix: '/' }, route }] },
      ],
    },
    http_filters: [
      {
        name: 'envoy.filters.http.router',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
      },
    ],
  };
  return {
    node: { id: `retry-${o.region}`, cluster: 'bench' },
    static_resources: {
      listeners: [
        {
          name: 'registry_ingress',
          address: { socket_address: { address: o.listen.address, port_value: o.listen.port } },
          filter_chains: [
            { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: manager }] },
          ],
        },
      ],
      clusters: [
        cluster('local_registry', o.local.host, o.local.port, '5s'),
        ...o.siblings.map((s) =>
          cluster(siblingCluster(s.name), s.host, s.port, '2s', `${s.host}:${s.port}`),
        ),
        {
          name: 'registry',
          connect_timeout: '5s',
          lb_policy: 'CLUSTER_PROVIDED',
          cluster_type: {
            name: 'envoy.clusters.aggregate',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig',
              clusters: ['local_registry', ...o.siblings.map((s) => siblingCluster(s.name))],
            },
          },
          circuit_breakers: LIMITS,
        },
      ],
    },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort } } },
  };
}

export interface RetryEnvoy {
  /** `http://ip:port`, on the region's own address. */
  readonly url: string;
  /** `ip:port`, for skopeo. */
  readonly host: string;
  readonly envoy: EnvoyProcess;
  /** Requests this Envoy sent to each sibling so far (its sibling clusters' upstream_rq_total). */
  sent(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * Starts the retrying Envoy beside a region's own (on its address, another port), in front of the
 * same registry, retrying on `siblings` in that order through the links geosync's redirects cross.
 */
export async function startRetryEnvoy(
  region: RegionDeployment,
  siblings: readonly RegionDeployment[],
  dir: string,
): Promise<RetryEnvoy> {
  const ip = new URL(region.url).hostname;
  const port = await freePort(ip);
  const registry = new URL(region.registry.url);
  const bootstrap = retryBootstrap({
    listen: { address: ip, port },
    adminPort: await freePort(),
    local: { host: registry.hostname, port: Number(registry.port) },
    siblings: siblings.map((s) => {
      const u = new URL(s.crossRegion.url);
      return { name: s.name, host: u.hostname, port: Number(u.port) };
    }),
    region: region.name,
  });
  const envoy = await startEnvoy(stringify(bootstrap), {
    dir: path.join(dir, `envoy-retry-${region.name}`),
    name: `envoy-retry-${region.name}`,
  });
  return {
    url: `http://${ip}:${port}`,
    host: `${ip}:${port}`,
    envoy,
    async sent() {
      const stats = await envoy.stats();
      return Object.fromEntries(
        siblings.map((s) => [s.name, stats.get(`cluster.${siblingCluster(s.name)}.upstream_rq_total`) ?? 0]),
      );
    },
    close: () => envoy.close(),
  };
}
