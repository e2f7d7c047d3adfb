/**
 * Tuning of the Envoy clusters geosync generates, the same keys at every level:
 * `envoy.siblingDefaults` and `envoy.localRegistry` default to their own profile (declared side
 * by side below), `envoy.siblings.<region>` overrides `siblingDefaults` for one sibling. The
 * defaults suit multi-GB blob transfers across regions; envoy/README.md says when to change each.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto
 */
import { z } from 'zod';
import { absolutePath, defaulted, described, documented, integer, optional, section } from '../keys';
import type { Parsed } from '../refine';

export type UpstreamProtocol = 'auto' | 'http1' | 'http2';

type Level = 'siblings' | 'local' | 'override';

const ms = (min = 1) => integer(min, 86_400_000);
const count = (min: number) => integer(min, 1_000_000);

/** The tuning keys of one level: defaulted to that level's profile, or (`override`) optional. */
export function clusterTuningShape<L extends Level>(level: L) {
  type Key<T extends z.ZodType> = ReturnType<L extends 'override' ? typeof optional<T> : typeof defaulted<T>>;
  /** `local`: the local registry's default where it differs from the siblings'. */
  const key = <T extends z.ZodType>(inner: T, siblings: z.input<T> & {}, local = siblings) =>
    documented(
      level === 'override' ? optional(inner) : defaulted(inner, level === 'local' ? local : siblings),
      {
        tuning: true,
      },
    ) as Key<T>;
  const nested = <S extends z.ZodRawShape>(shape: S, docs: { [K in keyof S]: string }) =>
    documented(section(shape, docs), { tuning: true });
  return described(
    {
      // The local registry is next door: Envoy's own 5 s, since a connect that times out fails
      // every request queued in the pool (envoy/README.md, "Connect timeouts under a herd").
      connectTimeoutMs: key(ms(), 2000, 5000),
      streamIdleTimeoutMs: key(ms(1000), 300_000),
      connectionIdleTimeoutMs: key(ms(1000), 60_000),
      dnsLookupFamily: key(z.enum(['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL']), 'V4_PREFERRED'),
      protocol: key(z.enum(['auto', 'http1', 'http2'] satisfies UpstreamProtocol[]), 'auto'),
      caFile: key(absolutePath(), '/etc/ssl/certs/ca-certificates.crt'),
      // Envoy's own 1024 pending requests answered most of a 5,000-client herd 503
      // (docs/benchmarks.md, part 3).
      circuitBreakers: nested(
        {
          maxConnections: key(count(1), 1024),
          maxPendingRequests: key(count(1), 65_536),
          maxRequests: key(count(1), 65_536),
          maxRetries: key(count(0), 3),
        },
        {
          maxConnections: 'Cluster `circuit_breakers` `max_connections`.',
          maxPendingRequests: '`max_pending_requests`.',
          maxRequests: '`max_requests` (HTTP/2 upstreams only: HTTP/1.1 carries one per connection).',
          maxRetries: '`max_retries`.',
        },
      ),
      outlierDetection: nested(
        {
          enabled: key(z.boolean(), true, false),
          consecutive5xx: key(count(1), 5),
          intervalMs: key(ms(), 10_000),
          baseEjectionTimeMs: key(ms(), 30_000),
          maxEjectionPercent: key(integer(0, 100), 100),
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
          enabled: key(z.boolean(), false),
          path: key(
            z.string().regex(/^\//, { error: (i) => `must start with "/", got "${String(i.input)}"` }),
            '/v2/',
          ),
          intervalMs: key(ms(100), 10_000),
          timeoutMs: key(ms(), 2_000),
          unhealthyThreshold: key(count(1), 3),
          healthyThreshold: key(count(1), 2),
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
    },
    {
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
    },
  );
}

/** One level of tuning with every key resolved. */
export type ClusterTuning = z.output<z.ZodObject<ReturnType<typeof clusterTuningShape<'siblings'>>>>;

/** The siblings' profile: what `envoy.siblingDefaults` holds when the file sets nothing. */
export const CLUSTER_DEFAULTS: ClusterTuning = z.object(clusterTuningShape('siblings')).parse({});

/** `envoy.siblings.<region>`: one sibling's overrides of `envoy.siblingDefaults`. */
export const clusterTuningOverrides = z.strictObject(clusterTuningShape('override'));

/** `own`'s keys over `base`, one level of nesting deep (circuitBreakers, …). */
export function mergeTuning(base: ClusterTuning, own: Parsed<z.output<typeof clusterTuningOverrides>> = {}) {
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
