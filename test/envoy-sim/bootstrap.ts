/**
 * Reads a static Envoy v3 bootstrap (YAML text or parsed object) into the simulator's model:
 * listeners → HCM → route_config, clusters (endpoints, upstream TLS, cluster-level upstream
 * http_filters with ext_proc then upstream_codec), and admin. Unknown shapes that would change
 * behaviour are rejected with the path of the key rather than silently ignored.
 */
import { parse as parseYaml } from 'yaml';
import { type ExtProcConfig, EXT_PROC_TYPE, parseExtProcConfig } from './ext-proc-config';
import {
  BootstrapError,
  type Obj,
  bool,
  durationMs,
  isObj,
  list,
  obj,
  optStr,
  str,
  typeName,
  uint,
} from './proto-values';
import { type RouteConfig, parseRouteConfig } from './route-config';

export interface SocketAddress {
  kind: 'socket';
  host: string;
  port: number;
}
export interface PipeAddress {
  kind: 'pipe';
  path: string;
}
export type Address = SocketAddress | PipeAddress;

export interface HcmConfig {
  statPrefix: string;
  stripAnyHostPort: boolean;
  stripMatchingHostPort: boolean;
  routeConfig: RouteConfig;
  /** HCM `stream_idle_timeout` (default 5 min, 0 disables). */
  streamIdleTimeoutMs: number;
  /** HCM `request_timeout` (default none). */
  requestTimeoutMs: number;
  maxHeadersCount: number;
  maxRequestHeadersKb: number;
}

export interface ListenerConfig {
  name: string;
  address: Address;
  hcm: HcmConfig;
}

export interface ClusterConfig {
  name: string;
  endpoints: Address[];
  connectTimeoutMs: number;
  /** UpstreamTlsContext: present when the cluster speaks TLS to its endpoints. */
  tls?: { sni?: string; autoSni: boolean; verify: boolean };
  /** http2 to the endpoints (used for the ext_proc gRPC cluster; the HTTP proxy path is HTTP/1.1). */
  http2: boolean;
  /** The cluster-level upstream ext_proc filter, when configured. */
  extProc?: ExtProcConfig;
  /** `common_http_protocol_options.max_requests_per_connection` (unset: unlimited). */
  maxRequestsPerConnection?: number;
}

export interface Bootstrap {
  listeners: ListenerConfig[];
  clusters: Map<string, ClusterConfig>;
  admin?: { address: Address };
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const UPSTREAM_CODEC_TYPE = 'envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec';
const TLS_TYPE = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

export function readBootstrap(source: string | Obj): Bootstrap {
  const root = typeof source === 'string' ? obj(parseYaml(source), '$') : source;
  const sr = obj(root.static_resources, 'static_resources');
  const clusters = new Map<string, ClusterConfig>();
  list(sr.clusters, 'static_resources.clusters').forEach((c, i) => {
    const cluster = parseCluster(c, `static_resources.clusters[${i}]`);
    if (clusters.has(cluster.name))
      throw new BootstrapError(`static_resources.clusters[${i}].name`, `duplicate cluster '${cluster.name}'`);
    clusters.set(cluster.name, cluster);
  });
  const listeners = list(sr.listeners, 'static_resources.listeners').map((l, i) =>
    parseListener(l, `static_resources.listeners[${i}]`),
  );
  checkReferences(listeners, clusters);
  const admin = isObj(root.admin)
    ? { address: parseAddress(root.admin.address, 'admin.address') }
    : undefined;
  return { listeners, clusters, admin };
}

/** Load-time cross references Envoy checks: route → cluster, ext_proc → gRPC cluster. */
function checkReferences(listeners: ListenerConfig[], clusters: Map<string, ClusterConfig>): void {
  for (const l of listeners)
    for (const vh of l.hcm.routeConfig.virtualHosts)
      for (const r of vh.routes)
        if (r.action.kind === 'route' && !clusters.has(r.action.cluster))
          throw new BootstrapError(
            `listener ${l.name} route ${r.name || '(unnamed)'}`,
            `unknown cluster '${r.action.cluster}'`,
          );
  for (const c of clusters.values())
    if (c.extProc && !clusters.has(c.extProc.grpcCluster))
      throw new BootstrapError(
        `cluster ${c.name} ext_proc`,
        `unknown gRPC cluster '${c.extProc.grpcCluster}'`,
      );
}

function parseListener(v: unknown, path: string): ListenerConfig {
  const l = obj(v, path);
  const chains = list(l.filter_chains, `${path}.filter_chains`);
  if (chains.length !== 1)
    throw new BootstrapError(`${path}.filter_chains`, 'exactly one filter chain is modelled');
  const chain = obj(chains[0], `${path}.filter_chains[0]`);
  if (chain.transport_socket !== undefined)
    throw new BootstrapError(`${path}.filter_chains[0].transport_socket`, 'downstream TLS is not modelled');
  const filters = list(chain.filters, `${path}.filter_chains[0].filters`);
  const hcmFilter = filters
    .map((f) => obj(f, path))
    .find((f) => typeName(obj(f.typed_config, path)) === HCM_TYPE);
  if (!hcmFilter) throw new BootstrapError(`${path}.filter_chains[0].filters`, 'no http_connection_manager');
  return {
    name: str(l.name, `${path}.name`),
    address: parseAddress(l.address, `${path}.address`),
    hcm: parseHcm(
      obj(hcmFilter.typed_config, path),
      `${path}.filter_chains[0].filters.http_connection_manager`,
    ),
  };
}

function parseHcm(tc: Obj, path: string): HcmConfig {
  if (tc.rds !== undefined) throw new BootstrapError(`${path}.rds`, 'only a static route_config is modelled');
  const filters = list(tc.http_filters, `${path}.http_filters`).map((f, i) =>
    obj(f, `${path}.http_filters[${i}]`),
  );
  const names = filters.map((f) => String(f.name));
  if (names[names.length - 1] !== 'envoy.filters.http.router')
    throw new BootstrapError(`${path}.http_filters`, 'the last filter must be envoy.filters.http.router');
  if (names.length > 1)
    throw new BootstrapError(
      `${path}.http_filters`,
      `downstream filters other than the router are not modelled: ${names.join(', ')}`,
    );
  const common = obj(tc.common_http_protocol_options, `${path}.common_http_protocol_options`);
  return {
    statPrefix: str(tc.stat_prefix, `${path}.stat_prefix`),
    stripAnyHostPort: bool(tc.strip_any_host_port, `${path}.strip_any_host_port`, false),
    stripMatchingHostPort: bool(tc.strip_matching_host_port, `${path}.strip_matching_host_port`, false),
    routeConfig: parseRouteConfig(tc.route_config, `${path}.route_config`),
    streamIdleTimeoutMs: durationMs(tc.stream_idle_timeout, `${path}.stream_idle_timeout`) ?? 300_000,
    requestTimeoutMs: durationMs(tc.request_timeout, `${path}.request_timeout`) ?? 0,
    maxHeadersCount: uint(
      common.max_headers_count,
      `${path}.common_http_protocol_options.max_headers_count`,
      100,
    ),
    maxRequestHeadersKb: uint(tc.max_request_headers_kb, `${path}.max_request_headers_kb`, 60),
  };
}

export function parseAddress(v: unknown, path: string): Address {
  const a = obj(v, path);
  if (a.pipe !== undefined)
    return { kind: 'pipe', path: str(obj(a.pipe, `${path}.pipe`).path, `${path}.pipe.path`) };
  const sa = obj(a.socket_address, `${path}.socket_address`);
  if (sa.named_port !== undefined)
    throw new BootstrapError(`${path}.socket_address.named_port`, 'not supported');
  return {
    kind: 'socket',
    host: str(sa.address, `${path}.socket_address.address`),
    port: uint(sa.port_value, `${path}.socket_address.port_value`, 0),
  };
}

function parseCluster(v: unknown, path: string): ClusterConfig {
  const c = obj(v, path);
  const name = str(c.name, `${path}.name`);
  const la = obj(c.load_assignment, `${path}.load_assignment`);
  const endpoints: Address[] = [];
  list(la.endpoints, `${path}.load_assignment.endpoints`).forEach((e, i) =>
    list(obj(e, path).lb_endpoints, `${path}.load_assignment.endpoints[${i}].lb_endpoints`).forEach(
      (lb, j) => {
        const p = `${path}.load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address`;
        endpoints.push(parseAddress(obj(obj(lb, p).endpoint, p).address, p));
      },
    ),
  );
  const options = obj(
    obj(c.typed_extension_protocol_options, path)[HTTP_OPTIONS_KEY],
    `${path}.typed_extension_protocol_options`,
  );
  const explicit = obj(options.explicit_http_config, `${path}.explicit_http_config`);
  const legacyHttp2 = c.http2_protocol_options !== undefined;
  const commonOptions = obj(options.common_http_protocol_options, `${path}.common_http_protocol_options`);
  const maxRequests = commonOptions.max_requests_per_connection;
  return {
    name,
    ...(maxRequests !== undefined
      ? {
          maxRequestsPerConnection: uint(
            maxRequests,
            `${path}.common_http_protocol_options.max_requests_per_connection`,
            0,
          ),
        }
      : {}),
    endpoints,
    connectTimeoutMs: durationMs(c.connect_timeout, `${path}.connect_timeout`) ?? 5_000,
    tls: parseTls(c.transport_socket, `${path}.transport_socket`, options),
    http2: legacyHttp2 || explicit.http2_protocol_options !== undefined,
    extProc: parseUpstreamFilters(
      options.http_filters,
      `${path}.typed_extension_protocol_options.http_filters`,
    ),
  };
}

/**
 * UpstreamTlsContext. Envoy verifies the upstream certificate only when the context has a
 * validation context (tls.proto: "If not specified... the certificate is not verified").
 * `auto_sni` lives in HttpProtocolOptions.upstream_http_protocol_options.
 */
function parseTls(v: unknown, path: string, httpOptions: Obj): ClusterConfig['tls'] {
  if (v === undefined) return undefined;
  const tc = obj(obj(v, path).typed_config, `${path}.typed_config`);
  if (typeName(tc) !== TLS_TYPE) throw new BootstrapError(`${path}.typed_config`, `expected ${TLS_TYPE}`);
  const common = obj(tc.common_tls_context, `${path}.typed_config.common_tls_context`);
  const upstreamHttp = obj(httpOptions.upstream_http_protocol_options, 'upstream_http_protocol_options');
  return {
    sni: optStr(tc.sni, `${path}.typed_config.sni`),
    autoSni: bool(upstreamHttp.auto_sni, `${path}.upstream_http_protocol_options.auto_sni`, false),
    verify:
      common.validation_context !== undefined || common.validation_context_sds_secret_config !== undefined,
  };
}

/**
 * Cluster-level upstream filters (§4.2): [ext_proc]? then upstream_codec, which must be last
 * (Envoy rejects a chain that does not end with the codec filter).
 */
function parseUpstreamFilters(v: unknown, path: string): ExtProcConfig | undefined {
  const filters = list(v, path).map((f, i) => obj(f, `${path}[${i}]`));
  if (filters.length === 0) return undefined;
  const last = filters[filters.length - 1];
  if (!last || typeName(obj(last.typed_config, path)) !== UPSTREAM_CODEC_TYPE)
    throw new BootstrapError(path, 'the last upstream http filter must be envoy.filters.http.upstream_codec');
  const rest = filters.slice(0, -1);
  if (rest.length > 1) throw new BootstrapError(path, 'at most one upstream filter (ext_proc) is modelled');
  if (rest.length === 0) return undefined;
  const tc = obj(rest[0]?.typed_config, `${path}[0].typed_config`);
  if (typeName(tc) !== EXT_PROC_TYPE)
    throw new BootstrapError(`${path}[0]`, 'only ext_proc is modelled as an upstream filter');
  return parseExtProcConfig(tc, `${path}[0].typed_config`);
}
