/**
 * Per-cluster tuning of the Envoy clusters geosync generates: the local registry's and one per
 * sibling region. The keys are the same at every level (`envoy.siblingDefaults`,
 * `envoy.siblings.<region>`, `envoy.localRegistry`) and all optional in the file: a level's unset
 * keys inherit from the level above, and the profiles below are the top. Defaults suit multi-GB
 * blob transfers across regions; envoy/README.md explains when to change each key.
 */
import { z } from 'zod';
import { absolutePath, integer, optional, section } from '../keys';

/** https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto (DnsLookupFamily) */
export const DNS_LOOKUP_FAMILIES = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const;

export type DnsLookupFamily = (typeof DNS_LOOKUP_FAMILIES)[number];

/**
 * The upstream HTTP version: `auto` lets TLS's ALPN choose (HTTP/2 when the registry or sibling
 * Envoy offers it, else HTTP/1.1) and is HTTP/1.1 over cleartext, where nothing negotiates;
 * `http2` over cleartext is prior-knowledge h2c, which a sibling geosync Envoy accepts.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto
 */
export const UPSTREAM_PROTOCOLS = ['auto', 'http1', 'http2'] as const;

export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

export const CLUSTER_DEFAULTS = {
  connectTimeoutMs: 2000,
  streamIdleTimeoutMs: 300_000,
  connectionIdleTimeoutMs: 60_000,
  dnsLookupFamily: 'V4_PREFERRED' as DnsLookupFamily,
  protocol: 'auto' as UpstreamProtocol,
  caFile: '/etc/ssl/certs/ca-certificates.crt',
  // A herd (every node of a deploy pulling one new image at once) must queue, not fail: Envoy's
  // own 1024 pending requests answered most of a 5,000-client herd 503 even once the image was
  // replicated (docs/benchmarks.md, part 3). Connections stay at Envoy's 1024, which bounds what
  // one Envoy asks of a registry; what exceeds them waits in the pending queue, sized so that a
  // herd of tens of thousands of requests in flight fits. Requests: HTTP/1.1 carries one per
  // connection, so max_requests only matters for HTTP/2 upstreams, where it bounds streams.
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 65_536, maxRequests: 65_536, maxRetries: 3 },
  outlierDetection: {
    enabled: true,
    consecutive5xx: 5,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 100,
  },
  healthCheck: {
    enabled: false,
    path: '/v2/',
    intervalMs: 10_000,
    timeoutMs: 2_000,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
  },
};

/** Tuning with every key resolved. */
export type ClusterTuning = typeof CLUSTER_DEFAULTS;

/**
 * The local registry is next door: outlier detection off. Its connect timeout is Envoy's own
 * default, not a short one: a registry process that is down is refused at once whatever the
 * timeout, while a connect that times out fails every request queued in that pool with a 503
 * (Envoy source/common/conn_pool/conn_pool_base.cc, onConnectionEvent: "we purge all pending
 * streams"). With 1 s, 20 connects timed out in a 2,100-request burst on a busy 2-core machine
 * that dropped no SYN (Envoy's worker, taking in the burst, ran the timers first) and 861
 * requests failed (test/integration/envoy/herd.test.ts).
 */
export const LOCAL_CLUSTER_DEFAULTS: ClusterTuning = {
  ...CLUSTER_DEFAULTS,
  connectTimeoutMs: 5000,
  outlierDetection: { ...CLUSTER_DEFAULTS.outlierDetection, enabled: false },
};

const DAY_MS = 86_400_000;
const ms = (min = 1) => integer(min, DAY_MS);
const count = (min: number) => integer(min, 1_000_000);

/** The file's keys of one level, each with the default `base` gives it (for the documentation). */
export function clusterTuningShape(base: ClusterTuning | undefined) {
  const key = <T extends z.ZodType>(inner: T, inherited: unknown, description: string) =>
    optional(inner, { description, tuning: true, inherited });
  const nested = <S extends z.ZodRawShape>(shape: S, description: string) =>
    section(shape, { description, tuning: true });
  const cb = base?.circuitBreakers;
  const od = base?.outlierDetection;
  const hc = base?.healthCheck;
  return {
    connectTimeoutMs: key(
      ms(),
      base?.connectTimeoutMs,
      "Cluster `connect_timeout` (TCP + TLS). Raise it for far or slow regions. Lower it to fail faster when a region is down, but not near a busy Envoy's lag: a connect that times out fails every request queued in that cluster with a 503.",
    ),
    streamIdleTimeoutMs: key(
      ms(1000),
      base?.streamIdleTimeoutMs,
      'Route `idle_timeout`. The route `timeout` is `0s` (off): a multi-GB layer may take many minutes, and only a stalled stream should be cut. Lower it to shed stuck transfers sooner.',
    ),
    connectionIdleTimeoutMs: key(
      ms(1000),
      base?.connectionIdleTimeoutMs,
      '`common_http_protocol_options.idle_timeout` of the upstream HTTP protocol options. Keep-alive connections are reused across pulls, then closed after idling this long. Keep it below any idle timeout of a load balancer in front of the registry. TCP keepalive (60 s, 10 s × 3) is always on.',
    ),
    dnsLookupFamily: key(
      z.enum(DNS_LOOKUP_FAMILIES),
      base?.dnsLookupFamily,
      'Cluster `dns_lookup_family` for host names. Use `V6_ONLY`/`AUTO` on IPv6 networks.',
    ),
    protocol: key(
      z.enum(UPSTREAM_PROTOCOLS),
      base?.protocol,
      'The upstream HTTP version: `auto` (over https, HTTP/2 if ALPN offers it; over http, HTTP/1.1), `http1`, or `http2` (over http: h2c, for a sibling that is a geosync Envoy). See "HTTP/2 to siblings".',
    ),
    caFile: key(
      absolutePath(),
      base?.caFile,
      'CA bundle for https registries. The certificate must also carry the host name as a DNS SAN (`match_typed_subject_alt_names`).',
    ),
    circuitBreakers: nested(
      {
        maxConnections: key(count(1), cb?.maxConnections, 'Cluster `circuit_breakers` `max_connections`.'),
        maxPendingRequests: key(count(1), cb?.maxPendingRequests, '`max_pending_requests`.'),
        maxRequests: key(count(1), cb?.maxRequests, '`max_requests`.'),
        maxRetries: key(count(0), cb?.maxRetries, '`max_retries`.'),
      },
      "Cluster `circuit_breakers`. Connections are Envoy's default; the pending queue holds a herd (a deploy pulling one image on thousands of nodes at once) instead of answering 503. Raise `maxPendingRequests` if `upstream_rq_pending_overflow` shows in `/stats`.",
    ),
    outlierDetection: nested(
      {
        enabled: key(
          z.boolean(),
          od?.enabled,
          'Passive health checking of the cluster (`outlier_detection`).',
        ),
        consecutive5xx: key(count(1), od?.consecutive5xx, '`consecutive_5xx`.'),
        intervalMs: key(ms(), od?.intervalMs, '`interval`.'),
        baseEjectionTimeMs: key(ms(), od?.baseEjectionTimeMs, '`base_ejection_time`.'),
        maxEjectionPercent: key(integer(0, 100), od?.maxEjectionPercent, '`max_ejection_percent`.'),
      },
      "Passive health (`outlier_detection`). It only matters when a cluster has several hosts. With one host, Envoy's panic mode keeps sending to it. It is off for the local registry.",
    ),
    healthCheck: nested(
      {
        enabled: key(z.boolean(), hc?.enabled, 'Active HTTP health checking of the cluster.'),
        path: key(
          z.string().regex(/^\//, { error: (iss) => `must start with "/", got "${String(iss.input)}"` }),
          hc?.path,
          'The path checked.',
        ),
        intervalMs: key(ms(100), hc?.intervalMs, '`interval`.'),
        timeoutMs: key(ms(), hc?.timeoutMs, '`timeout`; below `intervalMs`.'),
        unhealthyThreshold: key(count(1), hc?.unhealthyThreshold, '`unhealthy_threshold`.'),
        healthyThreshold: key(count(1), hc?.healthyThreshold, '`healthy_threshold`.'),
      },
      "Active HTTP health check. It expects `200` or `401` from the path: a registry with auth answers 401 and is up. It makes `/clusters` show the sibling's health. It does not change geosync's choice (geosync has its own breaker and health checks, `locate.*`).",
    ),
  };
}

/** `envoy.siblings.<region>`: one sibling's overrides of `envoy.siblingDefaults`. */
export const clusterTuningOverrides = z.strictObject(clusterTuningShape(undefined));

/** One level of tuning as written in the file: every key optional. */
export type ClusterTuningOverrides = z.output<typeof clusterTuningOverrides>;

// The profiles above set every key the schema declares, and no other (checked by the compiler).
type DeepRequired<T> = { [K in keyof T]-?: DeepRequired<Exclude<T[K], undefined>> };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _profilesMatchSchema: Same<DeepRequired<ClusterTuningOverrides>, ClusterTuning> = true;
