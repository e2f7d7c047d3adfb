/**
 * geosync as an upstream ext_proc filter of the local-registry pull cluster (envoy-semantics.md §4).
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
 */
import { ATTRIBUTE } from '../extproc/headers';
import { METADATA_NAMESPACE } from '../extproc/replies';
import { duration, EXT, NAMES, TYPE } from './names';
import type { EnvoyOptions } from './options';
import { hasEncodeOnlyRequestAttributes, type EnvoyVersion } from './version';

type Json = Record<string, unknown>;

/** The cluster's upstream HTTP filter chain: ext_proc, then the codec that must end every chain. */
export function upstreamFilters(opts: EnvoyOptions, version: EnvoyVersion): Json[] {
  return [
    { name: EXT.extProc, typed_config: extProcConfig(opts, version) },
    { name: EXT.upstreamCodec, typed_config: { '@type': TYPE.upstreamCodec } },
  ];
}

function extProcConfig(opts: EnvoyOptions, version: EnvoyVersion): Json {
  const encodeOnly = hasEncodeOnlyRequestAttributes(version);
  return {
    '@type': TYPE.extProc,
    grpc_service: { envoy_grpc: { cluster_name: NAMES.extProcCluster } },
    // geosync down, slow or erroring must never fail a pull: the original 404 passes unchanged
    // (§3: as an upstream filter, FMA=false would hang or 500 the client).
    failure_mode_allow: true,
    message_timeout: duration(opts.extProc.messageTimeoutMs),
    // geosync answers ineligible requests with mode_override response_header_mode SKIP, saving
    // the response round trip for pushes that reach this cluster.
    allow_mode_override: true,
    // No stat_prefix: Envoy appends it to "ext_proc." without a dot, and there is one ext_proc
    // filter per cluster, so the counters are simply `...ext_proc.<counter>`.
    processing_mode: {
      // Before 1.37 request-header attributes are missing on the encode path, so geosync needs
      // the request headers themselves; from 1.37 it reads `response_attributes` instead.
      request_header_mode: encodeOnly ? 'SKIP' : 'SEND',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    },
    // request.id and traceparent let geosync log the request id and join the client's trace.
    ...(encodeOnly
      ? {
          response_attributes: [
            ATTRIBUTE.path,
            ATTRIBUTE.method,
            ATTRIBUTE.originalUrl,
            ATTRIBUTE.requestId,
            ATTRIBUTE.traceparent,
          ],
        }
      : {}),
    // Lets geosync's decision reach the access log: %DYNAMIC_METADATA(geosync:outcome)%.
    metadata_options: { receiving_namespaces: { untyped: [METADATA_NAMESPACE] } },
  };
}
