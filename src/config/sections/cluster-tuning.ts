/**
 * Per-cluster tuning of the Envoy clusters geosync generates: the local registry's and one per
 * sibling region. The keys are the same at every level: `envoy.siblingDefaults` and
 * `envoy.localRegistry` default them to the profiles below, `envoy.siblings.<region>` overrides
 * `siblingDefaults` for one sibling. Defaults suit multi-GB blob transfers across regions;
 * envoy/README.md explains when to change each key.
 */
import { z } from 'zod';
import { absolutePath, defaulted, described, documented, integer, optional, section } from '../keys';
import type { Parsed } from '../refine';

/** https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto (DnsLookupFamily) */
export const DNS_LOOKUP_FAMILIES = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const;

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
  dnsLookupFamily: 'V4_PREFERRED' as (typeof DNS_LOOKUP_FAMILIES)[number],
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

const ms = (min = 1) => integer(min, 86_400_000);
const count = (min: number) => integer(min, 1_000_000);

/** The tuning keys of one level, each defaulting to `base`'s value, or (no base) optional. */
export function clusterTuningShape(base?: ClusterTuning) {
  const key = <T extends z.ZodType>(inner: T, value: (z.input<T> & {}) | undefined) =>
    documented(value === undefined ? optional(inner) : defaulted(inner, value), { tuning: true });
  const nested = <S extends z.ZodRawShape>(shape: S, docs: { [K in keyof S]: string }) =>
    documented(section(shape, docs), { tuning: true });
  const { circuitBreakers: cb, outlierDetection: od, healthCheck: hc } = base ?? {};
  const shape = {
    connectTimeoutMs: key(ms(), base?.connectTimeoutMs),
    streamIdleTimeoutMs: key(ms(1000), base?.streamIdleTimeoutMs),
    connectionIdleTimeoutMs: key(ms(1000), base?.connectionIdleTimeoutMs),
    dnsLookupFamily: key(z.enum(DNS_LOOKUP_FAMILIES), base?.dnsLookupFamily),
    protocol: key(z.enum(UPSTREAM_PROTOCOLS), base?.protocol),
    caFile: key(absolutePath(), base?.caFile),
    circuitBreakers: nested(
      {
        maxConnections: key(count(1), cb?.maxConnections),
        maxPendingRequests: key(count(1), cb?.maxPendingRequests),
        maxRequests: key(count(1), cb?.maxRequests),
        maxRetries: key(count(0), cb?.maxRetries),
      },
      {
        maxConnections: 'Cluster `circuit_breakers` `max_connections`.',
        maxPendingRequests: '`max_pending_requests`.',
        maxRequests: '`max_requests`.',
        maxRetries: '`max_retries`.',
      },
    ),
    outlierDetection: nested(
      {
        enabled: key(z.boolean(), od?.enabled),
        consecutive5xx: key(count(1), od?.consecutive5xx),
        intervalMs: key(ms(), od?.intervalMs),
        baseEjectionTimeMs: key(ms(), od?.baseEjectionTimeMs),
        maxEjectionPercent: key(integer(0, 100), od?.maxEjectionPercent),
      },
      {
        enabled: 'Passive health checking of the cluster (`outlier_detection`).',
        consecutive5xx: '`consecutive_5xx`.',
        intervalMs: '`interval`.',
        baseEjectionTimeMs: '`base_ejection_time`.',
        maxEjectionPercent: '`max_ejection_percent`.',
      },
    ),
    healthCheck: nested(
      {
        enabled: key(z.boolean(), hc?.enabled),
        path: key(
          z.string().regex(/^\//, { error: (iss) => `must start with "/", got "${String(iss.input)}"` }),
          hc?.path,
        ),
        intervalMs: key(ms(100), hc?.intervalMs),
        timeoutMs: key(ms(), hc?.timeoutMs),
        unhealthyThreshold: key(count(1), hc?.unhealthyThreshold),
        healthyThreshold: key(count(1), hc?.healthyThreshold),
      },
      {
        enabled: 'Active HTTP health checking of the cluster.',
        path: 'The path checked.',
        intervalMs: '`interval`.',
        timeoutMs: '`timeout`; below `intervalMs`.',
        unhealthyThreshold: '`unhealthy_threshold`.',
        healthyThreshold: '`healthy_threshold`.',
      },
    ),
  };
  return described(shape, {
    connectTimeoutMs:
      "Cluster `connect_timeout` (TCP + TLS). Raise it for far or slow regions. Lower it to fail faster when a region is down, but not near a busy Envoy's lag: a connect that times out fails every request queued in that cluster with a 503.",
    streamIdleTimeoutMs:
      'Route `idle_timeout`. The route `timeout` is `0s` (off): a multi-GB layer may take many minutes, and only a stalled stream should be cut. Lower it to shed stuck transfers sooner.',
    connectionIdleTimeoutMs:
      '`common_http_protocol_options.idle_timeout` of the upstream HTTP protocol options. Keep-alive connections are reused across pulls, then closed after idling this long. Keep it below any idle timeout of a load balancer in front of the registry. TCP keepalive (60 s, 10 s × 3) is always on.',
    dnsLookupFamily: 'Cluster `dns_lookup_family` for host names. Use `V6_ONLY`/`AUTO` on IPv6 networks.',
    protocol:
      'The upstream HTTP version: `auto` (over https, HTTP/2 if ALPN offers it; over http, HTTP/1.1), `http1`, or `http2` (over http: h2c, for a sibling that is a geosync Envoy). See "HTTP/2 to siblings".',
    caFile:
      'CA bundle for https registries. The certificate must also carry the host name as a DNS SAN (`match_typed_subject_alt_names`).',
    circuitBreakers:
      "Cluster `circuit_breakers`. Connections are Envoy's default; the pending queue holds a herd (a deploy pulling one image on thousands of nodes at once) instead of answering 503. Raise `maxPendingRequests` if `upstream_rq_pending_overflow` shows in `/stats`.",
    outlierDetection:
      "Passive health (`outlier_detection`). It only matters when a cluster has several hosts. With one host, Envoy's panic mode keeps sending to it. It is off for the local registry.",
    healthCheck:
      "Active HTTP health check. It expects `200` or `401` from the path: a registry with auth answers 401 and is up. It makes `/clusters` show the sibling's health. It does not change geosync's choice (geosync has its own breaker and health checks, `locate.*`).",
  });
}

/** `envoy.siblings.<region>`: one sibling's overrides of `envoy.siblingDefaults`. */
export const clusterTuningOverrides = z.strictObject(clusterTuningShape());

/** One level of tuning as written in the file: every key optional. */
export type ClusterTuningOverrides = Parsed<z.output<typeof clusterTuningOverrides>>;

// The profiles above set every key the schema declares, and no other (checked by the compiler).
type DeepRequired<T> = { [K in keyof T]-?: DeepRequired<Exclude<T[K], undefined>> };
const _profilesMatchSchema: [DeepRequired<ClusterTuningOverrides>, ClusterTuning] extends [
  ClusterTuning,
  DeepRequired<ClusterTuningOverrides>,
]
  ? true
  : false = true;

/** `own`'s keys over `base`, one level of nesting deep (circuitBreakers, …). */
export function mergeTuning(base: ClusterTuning, own: ClusterTuningOverrides = {}): ClusterTuning {
  const over = <T extends object>(b: T, o: object = {}): T => ({
    ...b,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  });
  return {
    ...over(base, own),
    circuitBreakers: over(base.circuitBreakers, own.circuitBreakers),
    outlierDetection: over(base.outlierDetection, own.outlierDetection),
    healthCheck: over(base.healthCheck, own.healthCheck),
  };
}
