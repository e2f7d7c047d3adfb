/**
 * Cross-references Envoy checks when it loads a static bootstrap, beyond the per-message schema:
 * unique listener/cluster/virtual-host names and domains, routes and ext_proc/gRPC services
 * naming existing clusters, internal-redirect allow-lists naming existing routes, HTTP filter
 * chains ending in the router (downstream) or upstream_codec (upstream), one endpoint per
 * LOGICAL_DNS cluster. Reads the walker's normalised output (proto field names).
 */
import { fieldPath, indexPath, isMapping, keyPath, type ProblemList } from './problems';

type Obj = Record<string, unknown>;

const T = 'type.googleapis.com/envoy.extensions.';
const HCM = `${T}filters.network.http_connection_manager.v3.HttpConnectionManager`;
const ROUTER = `${T}filters.http.router.v3.Router`;
const UPSTREAM_CODEC = `${T}filters.http.upstream_codec.v3.UpstreamCodec`;
const ALLOW_LISTED = `${T}internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig`;
const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map((v) => (isMapping(v) ? v : {})) : [];
}

function obj(value: unknown): Obj {
  return isMapping(value) ? value : {};
}

export function checkReferences(bootstrap: Obj, problems: ProblemList): void {
  const resources = obj(bootstrap.static_resources);
  const clusters = list(resources.clusters);
  const clusterNames = uniqueNames(clusters, 'static_resources.clusters', 'cluster', problems);
  uniqueNames(list(resources.listeners), 'static_resources.listeners', 'listener', problems);

  clusters.forEach((c, i) => checkCluster(c, indexPath('static_resources.clusters', i), problems));
  list(resources.listeners).forEach((l, i) => {
    list(l.filter_chains).forEach((chain, j) => {
      list(chain.filters).forEach((f, k) => {
        const tc = obj(f.typed_config);
        if (tc['@type'] !== HCM) return;
        const p = fieldPath(
          `static_resources.listeners[${i}].filter_chains[${j}].filters[${k}]`,
          'typed_config',
        );
        checkHcm(tc, p, clusterNames, problems);
      });
    });
  });
  // Every gRPC service Envoy reaches through a cluster (ext_proc, ext_authz, access log services).
  walk(bootstrap, '', (value, path) => {
    const envoyGrpc = obj(value.envoy_grpc);
    const name = envoyGrpc.cluster_name;
    if (typeof name === 'string' && !clusterNames.has(name)) {
      problems.add(fieldPath(fieldPath(path, 'envoy_grpc'), 'cluster_name'), `unknown cluster "${name}"`);
    }
  });
}

function uniqueNames(items: Obj[], path: string, what: string, problems: ProblemList): Set<string> {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const name = item.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.add(
        fieldPath(indexPath(path, i), 'name'),
        `duplicate ${what} name "${name}" (also ${indexPath(path, first)})`,
      );
    } else seen.set(name, i);
  });
  return new Set(seen.keys());
}

function checkCluster(cluster: Obj, path: string, problems: ProblemList): void {
  const options = obj(cluster.typed_extension_protocol_options);
  const http = obj(options[HTTP_PROTOCOL_OPTIONS]);
  const filters = list(http.http_filters);
  const filtersPath = fieldPath(
    keyPath(fieldPath(path, 'typed_extension_protocol_options'), HTTP_PROTOCOL_OPTIONS),
    'http_filters',
  );
  checkChainEnd(filters, filtersPath, UPSTREAM_CODEC, 'envoy.filters.http.upstream_codec', problems);
  if (cluster.type === 'LOGICAL_DNS') {
    const endpoints = list(obj(cluster.load_assignment).endpoints);
    const count = endpoints.reduce((n, e) => n + list(e.lb_endpoints).length, 0);
    if (endpoints.length !== 1 || count !== 1) {
      problems.add(fieldPath(path, 'load_assignment'), 'a LOGICAL_DNS cluster needs exactly one endpoint');
    }
  }
}

function checkChainEnd(
  filters: Obj[],
  path: string,
  type: string,
  name: string,
  problems: ProblemList,
): void {
  if (filters.length === 0) return;
  const last = filters[filters.length - 1] as Obj;
  if (obj(last.typed_config)['@type'] !== type) {
    problems.add(indexPath(path, filters.length - 1), `the last HTTP filter must be ${name}`);
  }
  filters.slice(0, -1).forEach((f, i) => {
    if (obj(f.typed_config)['@type'] === type)
      problems.add(indexPath(path, i), `${name} must be the last HTTP filter`);
  });
}

function checkHcm(hcm: Obj, path: string, clusters: Set<string>, problems: ProblemList): void {
  const filters = list(hcm.http_filters);
  checkChainEnd(filters, fieldPath(path, 'http_filters'), ROUTER, 'envoy.filters.http.router', problems);
  filters.forEach((f, i) => {
    const router = obj(f.typed_config);
    if (router['@type'] !== ROUTER) return;
    const upstream = list(router.upstream_http_filters);
    const p = fieldPath(
      fieldPath(indexPath(fieldPath(path, 'http_filters'), i), 'typed_config'),
      'upstream_http_filters',
    );
    checkChainEnd(upstream, p, UPSTREAM_CODEC, 'envoy.filters.http.upstream_codec', problems);
  });
  if (isMapping(hcm.route_config))
    checkRouteConfig(hcm.route_config, fieldPath(path, 'route_config'), clusters, problems);
}

function checkRouteConfig(config: Obj, path: string, clusters: Set<string>, problems: ProblemList): void {
  const vhosts = list(config.virtual_hosts);
  const vhostsPath = fieldPath(path, 'virtual_hosts');
  uniqueNames(vhosts, vhostsPath, 'virtual host', problems);
  const domains = new Map<string, string>();
  const routeNames = new Set<string>();
  vhosts.forEach((vh, i) => {
    const vp = indexPath(vhostsPath, i);
    (Array.isArray(vh.domains) ? vh.domains : []).forEach((d: unknown, j: number) => {
      if (typeof d !== 'string') return;
      const other = domains.get(d.toLowerCase());
      if (other !== undefined)
        problems.add(indexPath(fieldPath(vp, 'domains'), j), `duplicate domain "${d}" (also ${other})`);
      else domains.set(d.toLowerCase(), vp);
    });
    list(vh.routes).forEach((r) => {
      if (typeof r.name === 'string' && r.name !== '') routeNames.add(r.name);
    });
  });
  vhosts.forEach((vh, i) => {
    list(vh.routes).forEach((route, j) => {
      const rp = indexPath(fieldPath(indexPath(vhostsPath, i), 'routes'), j);
      const action = obj(route.route);
      const ap = fieldPath(rp, 'route');
      if (typeof action.cluster === 'string' && !clusters.has(action.cluster)) {
        problems.add(fieldPath(ap, 'cluster'), `unknown cluster "${action.cluster}"`);
      }
      list(obj(action.weighted_clusters).clusters).forEach((wc, k) => {
        if (typeof wc.name === 'string' && !clusters.has(wc.name)) {
          problems.add(
            fieldPath(indexPath(fieldPath(ap, 'weighted_clusters.clusters'), k), 'name'),
            `unknown cluster "${wc.name}"`,
          );
        }
      });
      const policyPath = fieldPath(ap, 'internal_redirect_policy');
      list(obj(action.internal_redirect_policy).predicates).forEach((pred, k) => {
        const tc = obj(pred.typed_config);
        if (tc['@type'] !== ALLOW_LISTED) return;
        const namesPath = fieldPath(
          fieldPath(indexPath(fieldPath(policyPath, 'predicates'), k), 'typed_config'),
          'allowed_route_names',
        );
        (Array.isArray(tc.allowed_route_names) ? tc.allowed_route_names : []).forEach(
          (n: unknown, m: number) => {
            if (typeof n === 'string' && !routeNames.has(n))
              problems.add(indexPath(namesPath, m), `no route named "${n}" in this route_config`);
          },
        );
      });
    });
  });
}

/** Visits every mapping in the tree with its path. */
function walk(value: unknown, path: string, visit: (o: Obj, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, indexPath(path, i), visit));
  } else if (isMapping(value)) {
    visit(value, path);
    for (const [k, v] of Object.entries(value))
      walk(v, k.includes('.') ? keyPath(path, k) : fieldPath(path, k), visit);
  }
}
