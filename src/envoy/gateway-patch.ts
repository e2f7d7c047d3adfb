/**
 * geosync behind Envoy Gateway (Gateway API): the EnvoyPatchPolicy that adds to the Envoy
 * configuration the gateway generates what geosync's own bootstrap has (bootstrap.ts), for one
 * Gateway listener and the HTTPRoute that sends it to the registry. Envoy Gateway's policies
 * install ext_proc only as a downstream filter and set no internal redirect policy
 * (envoyproxy/gateway#5881, #8300), so JSON patches on the generated resources are the supported
 * way: https://gateway.envoyproxy.io/docs/tasks/extensibility/envoy-patch-policy/
 *
 * The patches find Envoy Gateway's generated names (internal/xds/translator, v1.9): listener and
 * route configuration `<namespace>/<gateway>/<listener>`, cluster `httproute/<namespace>/<route>/rule/0`;
 * routes are selected by the cluster they send to, not by their generated names or order.
 * A patch that no longer applies (a renamed resource in another Envoy Gateway release) is dropped
 * by Envoy Gateway with only a status condition on the policy: deploy/kubernetes/README.md says
 * how to check it.
 */
import type { GeosyncConfig } from '../config/types';
import { filterOptions, siblingsOf } from './bootstrap';
import { extProcCluster, siblingRegistryCluster } from './clusters';
import { upstreamFilters } from './ext-proc-filter';
import { markerRemoval } from './listener';
import { EXT, siblingCluster, TYPE } from './names';
import { internalRedirectPolicy, siblingVirtualHosts } from './routes';

type Json = Record<string, unknown>;

export interface GatewayTarget {
  /** Namespace of the Gateway, and of the EnvoyPatchPolicy (a policy targets its own namespace's Gateway). */
  readonly namespace: string;
  readonly gateway: string;
  /** The Gateway listener (its `name`) clients pull through. */
  readonly listener: string;
  /** The HTTPRoute to the registry (one rule, its backend the registry), and its namespace. */
  readonly httpRoute: { readonly namespace: string; readonly name: string };
}

const KUBE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `NAMESPACE/GATEWAY/LISTENER` and `[NAMESPACE/]HTTPROUTE` as the command line gives them. */
export function parseGatewayTarget(gateway: string, route: string): GatewayTarget | string {
  const g = gateway.split('/');
  const r = route.split('/');
  if (g.length !== 3 || !g.every((p) => KUBE_NAME.test(p)))
    return `--envoy-gateway must be NAMESPACE/GATEWAY/LISTENER, got "${gateway}"`;
  if (r.length > 2 || !r.every((p) => KUBE_NAME.test(p)))
    return `--httproute must be [NAMESPACE/]NAME, got "${route}"`;
  const [namespace, name, listener] = g as [string, string, string];
  const httpRoute =
    r.length === 2
      ? { namespace: r[0] as string, name: r[1] as string }
      : { namespace, name: r[0] as string };
  return { namespace, gateway: name, listener, httpRoute };
}

const T = 'type.googleapis.com/envoy.config.';
const RESOURCE = {
  listener: `${T}listener.v3.Listener`,
  routes: `${T}route.v3.RouteConfiguration`,
  cluster: `${T}cluster.v3.Cluster`,
} as const;

export function envoyPatchPolicy(config: GeosyncConfig, target: GatewayTarget): Json {
  const opts = config.envoy;
  const siblings = siblingsOf(config);
  const listener = `${target.namespace}/${target.gateway}/${target.listener}`;
  const registryCluster = `httproute/${target.httpRoute.namespace}/${target.httpRoute.name}/rule/0`;
  const patch = (type: string, name: string, operation: Json): Json => ({ type, name, operation });
  const jsonPatches: Json[] = [
    // geosync as the upstream ext_proc filter of the registry's cluster, behind its matcher.
    patch(RESOURCE.cluster, registryCluster, {
      op: 'add',
      path: '/typed_extension_protocol_options',
      value: {
        [EXT.httpProtocolOptions]: {
          '@type': TYPE.httpProtocolOptions,
          explicit_http_config: { http_protocol_options: {} },
          http_filters: upstreamFilters(opts, filterOptions(config)),
        },
      },
    }),
    // geosync's gRPC port, and every sibling region.
    patch(RESOURCE.cluster, 'geosync_ext_proc', {
      op: 'add',
      path: '',
      value: extProcCluster(config.listen.grpc, opts),
    }),
    ...siblings.map((s) =>
      patch(RESOURCE.cluster, siblingCluster(s.name), {
        op: 'add',
        path: '',
        value: siblingRegistryCluster(siblingCluster(s.name), s.url, s.tuning),
      }),
    ),
    // Every route to the registry follows geosync's 307, once, to a sibling route only.
    ...(siblings.length > 0
      ? [
          patch(RESOURCE.routes, listener, {
            op: 'add',
            jsonPath: `$.virtual_hosts[*].routes[?(@.route.cluster=='${registryCluster}')].route`,
            path: '/internal_redirect_policy',
            value: internalRedirectPolicy(siblings, opts),
          }),
        ]
      : []),
    // The sibling virtual hosts, open only to requests that carry geosync's marker.
    ...siblingVirtualHosts(siblings, opts.ignorePortInHostMatching, config.region).map((vh) =>
      patch(RESOURCE.routes, listener, { op: 'add', path: '/virtual_hosts/-', value: vh }),
    ),
    ...(opts.ignorePortInHostMatching
      ? [patch(RESOURCE.routes, listener, { op: 'add', path: '/ignore_port_in_host_matching', value: true })]
      : []),
    // Before any routing, a client-sent marker is dropped (listener.ts).
    patch(RESOURCE.listener, listener, {
      op: 'add',
      jsonPath: `$..filters[?(@.name=='${EXT.hcm}')].typed_config`,
      path: '/early_header_mutation_extensions',
      value: markerRemoval(),
    }),
  ];
  return {
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'EnvoyPatchPolicy',
    metadata: { name: `geosync-${config.region}`, namespace: target.namespace },
    spec: {
      targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: target.gateway },
      type: 'JSONPatch',
      jsonPatches,
    },
  };
}
