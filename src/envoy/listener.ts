/**
 * The registry listener and its HTTP connection manager.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
 */
import { HEADER, MAX_CLIENT_VALUE_LENGTH } from '../extproc/headers';
import { duration, EXT, NAMES, TYPE } from './names';
import type { EnvoyOptions } from '../config/types';

type Json = Record<string, unknown>;

/**
 * One JSON object per downstream request. JSON, not a text line: Envoy escapes every value in a
 * `json_format`, so a value a client controls (its `x-request-id`, a path) stays inside its own
 * field and cannot forge others (a text format logged `route=fake cluster=fake` from a crafted
 * request id). The path is `:path` as routed, never `x-envoy-original-path`, which a client can
 * send. A redirected pull logs the sibling's route and cluster, with `x-envoy-original-url` set by
 * the router; geosync's decision comes from the dynamic metadata it returns (namespace
 * `geosync`, src/extproc/replies.ts). Client-sent values are cut at 256 bytes.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#format-dictionaries
 */
/** Client-sent values are cut as geosync cuts them in its own logs and spans. */
const CUT = MAX_CLIENT_VALUE_LENGTH;

export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: `%REQ(:PATH):${CUT}%`,
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration_ms: '%DURATION%',
  route: '%ROUTE_NAME%',
  cluster: '%UPSTREAM_CLUSTER%',
  original_url: `%REQ(X-ENVOY-ORIGINAL-URL):${CUT}%`,
  geosync: '%DYNAMIC_METADATA(geosync:outcome)%',
  source: '%DYNAMIC_METADATA(geosync:source_region)%',
  lookup_ms: '%DYNAMIC_METADATA(geosync:lookup_ms)%',
  request_id: `%REQ(X-REQUEST-ID):${CUT}%`,
};

export function registryListener(opts: EnvoyOptions, routeConfig: Json, httpFilters: Json[]): Json {
  const l = opts.listener;
  return {
    name: NAMES.listener,
    address: { socket_address: { address: l.address, port_value: l.port } },
    filter_chains: [
      {
        filters: [{ name: EXT.hcm, typed_config: connectionManager(opts, routeConfig, httpFilters) }],
        ...(l.tls ? { transport_socket: downstreamTls(l.tls.certChain, l.tls.privateKey) } : {}),
      },
    ],
  };
}

/**
 * HTTP/2 limits of the client side, after Envoy's edge guidance
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/best_practices/edge): 100 streams
 * per connection; windows that bound what one client can make Envoy buffer of its uploads
 * (pulls are downloads: the client's own window governs those).
 */
const DOWNSTREAM_HTTP2 = {
  max_concurrent_streams: 100,
  initial_stream_window_size: 1024 * 1024,
  initial_connection_window_size: 16 * 1024 * 1024,
};

function connectionManager(opts: EnvoyOptions, routeConfig: Json, httpFilters: Json[]): Json {
  const l = opts.listener;
  return {
    '@type': TYPE.hcm,
    stat_prefix: NAMES.hcmStatPrefix,
    codec_type: 'AUTO',
    // A client that never finishes its headers (slowloris) is cut off; a request whose headers
    // are in may take as long as its body needs (multi-GB layer uploads), so no request_timeout.
    request_headers_timeout: duration(l.requestHeadersTimeoutMs),
    http2_protocol_options: DOWNSTREAM_HTTP2,
    // The client's address is the connection's (or the XFF entry `xffNumTrustedHops` back from a
    // trusted load balancer): Envoy then treats clients as external, strips the x-envoy-* headers
    // they send and regenerates their x-request-id
    // (source/common/http/conn_manager_utility.cc, mutateRequestHeaders).
    use_remote_address: true,
    xff_num_trusted_hops: l.xffNumTrustedHops,
    common_http_protocol_options: {
      // A connection with no request in flight is closed after this (Envoy's default: an hour),
      // so silent clients do not hold the connections the overload manager caps
      // (config/sections/envoy.ts, listener.idleTimeoutMs, says why its default).
      idle_timeout: duration(l.idleTimeoutMs),
      // Registries use no header names with underscores; a client's are dropped, not passed on
      // (they can alias dashed names at a backend that normalises them).
      headers_with_underscores_action: 'DROP_HEADER',
    },
    // RFC 3986 normalisation before routing, so "/v2/x/../y" cannot dodge the pull-route regexes.
    normalize_path: true,
    // Before any routing: a client cannot send the marker that opens the sibling routes
    // (routes.ts). Envoy's internal redirect copies it in afterwards, from geosync's 307.
    early_header_mutation_extensions: markerRemoval(),
    route_config: routeConfig,
    http_filters: httpFilters,
    ...(opts.accessLogPath ? { access_log: [fileAccessLog(opts.accessLogPath)] } : {}),
  };
}

function fileAccessLog(path: string): Json {
  return {
    name: EXT.fileAccessLog,
    typed_config: {
      '@type': TYPE.fileAccessLog,
      path,
      log_format: { json_format: ACCESS_LOG_FIELDS },
    },
  };
}

function downstreamTls(certChain: string, privateKey: string): Json {
  return {
    name: EXT.tls,
    typed_config: {
      '@type': TYPE.downstreamTls,
      common_tls_context: {
        tls_certificates: [
          { certificate_chain: { filename: certChain }, private_key: { filename: privateKey } },
        ],
        alpn_protocols: ['h2', 'http/1.1'],
      },
    },
  };
}

export function routerFilter(): Json {
  return { name: EXT.router, typed_config: { '@type': TYPE.router } };
}

export function admin(opts: EnvoyOptions): Json {
  return {
    address: { socket_address: { address: opts.admin.address, port_value: opts.admin.port } },
    // Reachable (stats, drain) even while clients hold every connection the overload manager allows.
    ignore_global_conn_limit: true,
  };
}

/**
 * Envoy's overload manager with a cap on downstream connections: without one, a flood of
 * connections (slow or idle clients) exhausts file descriptors and memory, and Envoy warns at
 * start that none is configured. Past the cap, new connections are refused.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/operations/overload_manager/overload_manager
 */
export function overloadManager(opts: EnvoyOptions): Json {
  return {
    resource_monitors: [
      {
        name: EXT.downstreamConnections,
        typed_config: {
          '@type': TYPE.downstreamConnections,
          max_active_downstream_connections: opts.listener.maxConnections,
        },
      },
    ],
  };
}

/**
 * The HTTP connection manager's early header mutation that drops the headers only Envoy may set:
 * a client-sent redirect marker, and a client-sent Basic user-id (src/envoy/basic-user-filter.ts
 * sets its own on the pull cluster), so neither reaches a registry or geosync from a client.
 */
export function markerRemoval(): Json[] {
  return [
    {
      name: EXT.earlyHeaderMutation,
      typed_config: {
        '@type': TYPE.earlyHeaderMutation,
        mutations: [{ remove: HEADER.redirectMarker }, { remove: HEADER.basicUser }],
      },
    },
  ];
}
