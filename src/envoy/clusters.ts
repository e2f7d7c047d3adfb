/**
 * The Envoy clusters: the local registry (twice: with and without geosync), one per sibling region
 * and geosync's own gRPC endpoint.
 * Reference: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto
 */
import { isIP } from 'node:net';
import type { ClusterTuning, EnvoyOptions, ListenAddress, UpstreamProtocol } from '../config/types';
import { duration, EXT, NAMES, TYPE } from './names';

type Json = Record<string, unknown>;

interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** Present for https: the name sent as SNI and checked against the certificate. */
  readonly tlsName?: string;
}

/** Connections to geosync: the ext_proc side stream is gRPC, so HTTP/2. */
export function extProcCluster(listen: ListenAddress, opts: EnvoyOptions): Json {
  const address =
    listen.kind === 'unix'
      ? { pipe: { path: listen.path } }
      : { socket_address: { address: connectableHost(listen.host), port_value: listen.port } };
  const dns = listen.kind === 'tcp' && isIP(connectableHost(listen.host)) === 0;
  return {
    name: NAMES.extProcCluster,
    type: dns ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: duration(opts.extProc.connectTimeoutMs),
    load_assignment: loadAssignment(NAMES.extProcCluster, address),
    typed_extension_protocol_options: {
      [EXT.httpProtocolOptions]: {
        '@type': TYPE.httpProtocolOptions,
        // Envoy ends each ext_proc stream it closes first with RST_STREAM (client_impl.cc close()).
        // Node's HTTP/2 server rate-limits peer resets (nghttp2: a burst of ~1000 per connection,
        // then 33/s) and answers with GOAWAY, failing the streams in flight. geosync ends streams
        // itself when it can; capping streams per connection bounds the resets any one connection
        // can see below that burst.
        common_http_protocol_options: { max_requests_per_connection: opts.extProc.maxStreamsPerConnection },
        // With `listen.workers` > 1, node:cluster hands each accepted connection to a worker; one
        // handed over in the instant that worker dies is held by no one and never answers
        // (its streams fail open at message_timeout). A PING that gets no answer closes it, so
        // Envoy connects again, to a live worker. The timeout is far above what a busy geosync
        // needs to answer one, so a herd never trips it.
        explicit_http_config: {
          http2_protocol_options: { connection_keepalive: { interval: '15s', timeout: '10s' } },
        },
      },
    },
    // Every 404 of a herd is one ext_proc stream, and on HTTP/2 `max_requests` counts streams:
    // Envoy's default of 1024 failed the streams of a 5,000-client herd beyond it (their 404s
    // passed). A stream lives while its upstream request to the local registry does, so the local
    // cluster's breakers bound the streams in flight; this cluster's must never be the lower limit.
    circuit_breakers: { thresholds: [{ priority: 'DEFAULT', ...extProcLimits(opts) }] },
  };
}

/** Every request the local registry cluster can have in flight, as streams to geosync. */
function extProcLimits(opts: EnvoyOptions): Json {
  const local = opts.localRegistry.tuning.circuitBreakers;
  const streams = Math.max(local.maxConnections, local.maxRequests);
  return { max_connections: local.maxConnections, max_pending_requests: streams, max_requests: streams };
}

/** The local registry; `upstreamFilters` (ext_proc + upstream_codec) only on the pull cluster. */
export function localRegistryCluster(name: string, opts: EnvoyOptions, upstreamFilters?: Json[]): Json {
  const l = opts.localRegistry;
  return registryCluster(
    name,
    { host: l.address, port: l.port, ...(l.tls ? { tlsName: l.sni } : {}) },
    l.tuning,
    l.address,
    upstreamFilters,
  );
}

export function siblingRegistryCluster(name: string, url: string, tuning: ClusterTuning): Json {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : https ? 443 : 80;
  return registryCluster(name, { host, port, ...(https ? { tlsName: host } : {}) }, tuning, u.host);
}

function registryCluster(
  name: string,
  endpoint: Endpoint,
  tuning: ClusterTuning,
  healthCheckHost: string,
  upstreamFilters?: Json[],
): Json {
  const ip = isIP(endpoint.host) !== 0;
  return {
    name,
    // LOGICAL_DNS: a registry behind a cloud load balancer answers with many, changing addresses;
    // Envoy connects to the first and re-resolves, as recommended for large web services.
    type: ip ? 'STATIC' : 'LOGICAL_DNS',
    ...(ip ? {} : { dns_lookup_family: tuning.dnsLookupFamily }),
    connect_timeout: duration(tuning.connectTimeoutMs),
    load_assignment: loadAssignment(name, {
      socket_address: { address: endpoint.host, port_value: endpoint.port },
    }),
    typed_extension_protocol_options: {
      [EXT.httpProtocolOptions]: {
        '@type': TYPE.httpProtocolOptions,
        // HTTP keep-alive: reuse connections across pulls but close them after this much idling,
        // before a load balancer in between silently drops them.
        common_http_protocol_options: { idle_timeout: duration(tuning.connectionIdleTimeoutMs) },
        ...httpVersion(tuning.protocol, endpoint.tlsName !== undefined),
        ...(upstreamFilters ? { http_filters: upstreamFilters } : {}),
      },
    },
    upstream_connection_options: {
      tcp_keepalive: { keepalive_time: 60, keepalive_interval: 10, keepalive_probes: 3 },
    },
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: tuning.circuitBreakers.maxConnections,
          max_pending_requests: tuning.circuitBreakers.maxPendingRequests,
          max_requests: tuning.circuitBreakers.maxRequests,
          max_retries: tuning.circuitBreakers.maxRetries,
        },
      ],
    },
    ...(tuning.outlierDetection.enabled ? { outlier_detection: outlierDetection(tuning) } : {}),
    ...(tuning.healthCheck.enabled ? { health_checks: [healthCheck(tuning, healthCheckHost)] } : {}),
    ...(endpoint.tlsName !== undefined
      ? { transport_socket: upstreamTls(endpoint.tlsName, tuning.caFile) }
      : {}),
  };
}

/**
 * Upstream HTTP/2 for a registry or a sibling's Envoy. At most 100 streams per connection: a herd
 * then spreads over several TCP connections, so one lost packet across the WAN stalls a hundred
 * pulls, not all of them. A PING unanswered for 10 s closes a connection whose peer vanished
 * (every stream on it would otherwise hang until the route's idle timeout).
 */
const UPSTREAM_HTTP2 = {
  max_concurrent_streams: 100,
  connection_keepalive: { interval: '30s', timeout: '10s' },
};

/** `auto` needs ALPN, so TLS; over cleartext it means HTTP/1.1 (cluster-tuning.ts `protocol`). */
function httpVersion(protocol: UpstreamProtocol, tls: boolean): Json {
  if (protocol === 'http2') return { explicit_http_config: { http2_protocol_options: UPSTREAM_HTTP2 } };
  if (protocol === 'auto' && tls) {
    return { auto_config: { http_protocol_options: {}, http2_protocol_options: UPSTREAM_HTTP2 } };
  }
  return { explicit_http_config: { http_protocol_options: {} } };
}

function outlierDetection(tuning: ClusterTuning): Json {
  const o = tuning.outlierDetection;
  return {
    consecutive_5xx: o.consecutive5xx,
    interval: duration(o.intervalMs),
    base_ejection_time: duration(o.baseEjectionTimeMs),
    max_ejection_percent: o.maxEjectionPercent,
  };
}

/** A registry answers /v2/ with 200 (anonymous) or 401 (auth required): both mean "up". */
function healthCheck(tuning: ClusterTuning, host: string): Json {
  const h = tuning.healthCheck;
  return {
    timeout: duration(h.timeoutMs),
    interval: duration(h.intervalMs),
    unhealthy_threshold: h.unhealthyThreshold,
    healthy_threshold: h.healthyThreshold,
    http_health_check: {
      host,
      path: h.path,
      // Checked the way pulls go: an `http2` sibling may speak nothing else. `auto` negotiates.
      ...(tuning.protocol === 'http2' ? { codec_client_type: 'HTTP2' } : {}),
      expected_statuses: [
        { start: 200, end: 201 },
        { start: 401, end: 402 },
      ],
    },
  };
}

/** TLS with SNI, verifying the certificate against the CA bundle and the registry's name. */
function upstreamTls(name: string, caFile: string): Json {
  const ip = isIP(name) !== 0;
  return {
    name: EXT.tls,
    typed_config: {
      '@type': TYPE.upstreamTls,
      ...(ip ? {} : { sni: name }),
      common_tls_context: {
        validation_context: {
          trusted_ca: { filename: caFile },
          match_typed_subject_alt_names: [{ san_type: ip ? 'IP_ADDRESS' : 'DNS', matcher: { exact: name } }],
        },
      },
    },
  };
}

function loadAssignment(cluster: string, address: Json): Json {
  return { cluster_name: cluster, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] };
}

/** geosync may listen on a wildcard address; Envoy must connect to a concrete one. */
function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
