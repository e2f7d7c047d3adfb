/**
 * The registry listener and its HTTP connection manager.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
 */
import { HEADER } from '../extproc/headers';
import { EXT, NAMES, TYPE } from './names';
import type { EnvoyOptions } from '../config/schema';

type Json = Record<string, unknown>;

/**
 * One line per downstream request; a redirected pull logs the sibling's route and cluster, with
 * X-ENVOY-ORIGINAL-URL set by the router. geosync's decision comes from the dynamic metadata it
 * returns (namespace `geosync`, see src/extproc/replies.ts).
 */
export const ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%ms ' +
  'route=%ROUTE_NAME% cluster=%UPSTREAM_CLUSTER% original_url="%REQ(X-ENVOY-ORIGINAL-URL)%" ' +
  'geosync=%DYNAMIC_METADATA(geosync:outcome)% source=%DYNAMIC_METADATA(geosync:source_region)% ' +
  'lookup_ms=%DYNAMIC_METADATA(geosync:lookup_ms)% request_id=%REQ(X-REQUEST-ID)%\n';

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

function connectionManager(opts: EnvoyOptions, routeConfig: Json, httpFilters: Json[]): Json {
  return {
    '@type': TYPE.hcm,
    stat_prefix: NAMES.hcmStatPrefix,
    codec_type: 'AUTO',
    // RFC 3986 normalisation before routing, so "/v2/x/../y" cannot dodge the pull-route regexes.
    normalize_path: true,
    // Before any routing: a client cannot send the marker that opens the sibling routes
    // (routes.ts). Envoy's internal redirect copies it in afterwards, from geosync's 307.
    early_header_mutation_extensions: [
      {
        name: EXT.earlyHeaderMutation,
        typed_config: { '@type': TYPE.earlyHeaderMutation, mutations: [{ remove: HEADER.redirectMarker }] },
      },
    ],
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
      log_format: { text_format_source: { inline_string: ACCESS_LOG_FORMAT } },
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
  return { address: { socket_address: { address: opts.admin.address, port_value: opts.admin.port } } };
}
