/**
 * Per-cluster tuning for the Envoy clusters geosync generates (the local registry and one per
 * sibling region). Defaults suit multi-GB blob transfers across regions; envoy/README.md explains
 * when to change each key. Read with the shared config Reader so problems carry key paths.
 */
import { join, Reader, type Obj } from '../config/reader';

/** https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto (DnsLookupFamily) */
export const DNS_LOOKUP_FAMILIES = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const;
export type DnsLookupFamily = (typeof DNS_LOOKUP_FAMILIES)[number];

export interface CircuitBreakerOptions {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface OutlierDetectionOptions {
  readonly enabled: boolean;
  readonly consecutive5xx: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

export interface HealthCheckOptions {
  readonly enabled: boolean;
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

export interface ClusterTuning {
  /** Cluster `connect_timeout`: TCP (+TLS) connect to the registry. */
  readonly connectTimeoutMs: number;
  /** Route `idle_timeout`: the route `timeout` is 0s (off) so multi-GB blobs are not cut; this bounds a stalled stream. */
  readonly streamIdleTimeoutMs: number;
  /** HttpProtocolOptions `common_http_protocol_options.idle_timeout`: how long a kept-alive upstream connection may idle. */
  readonly connectionIdleTimeoutMs: number;
  readonly dnsLookupFamily: DnsLookupFamily;
  /** CA bundle used to verify an https registry's certificate. */
  readonly caFile: string;
  readonly circuitBreakers: CircuitBreakerOptions;
  readonly outlierDetection: OutlierDetectionOptions;
  readonly healthCheck: HealthCheckOptions;
}

export const CLUSTER_DEFAULTS: ClusterTuning = {
  connectTimeoutMs: 2000,
  streamIdleTimeoutMs: 300_000,
  connectionIdleTimeoutMs: 60_000,
  dnsLookupFamily: 'V4_PREFERRED',
  caFile: '/etc/ssl/certs/ca-certificates.crt',
  // Envoy's own defaults (1024/1024/1024/3), written out so operators see and tune them.
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
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

/** The local registry is next door: a shorter connect timeout and no DNS preference games. */
export const LOCAL_CLUSTER_DEFAULTS: ClusterTuning = {
  ...CLUSTER_DEFAULTS,
  connectTimeoutMs: 1000,
  outlierDetection: { ...CLUSTER_DEFAULTS.outlierDetection, enabled: false },
};

export const TUNING_KEYS = [
  'connectTimeoutMs',
  'streamIdleTimeoutMs',
  'connectionIdleTimeoutMs',
  'dnsLookupFamily',
  'caFile',
  'circuitBreakers',
  'outlierDetection',
  'healthCheck',
] as const;

const DAY_MS = 86_400_000;

/** Reads the tuning keys of `obj` (other keys are the caller's to check) over `base`. */
export function readClusterTuning(r: Reader, obj: Obj, path: string, base: ClusterTuning): ClusterTuning {
  const cb = readSection(r, obj, path, 'circuitBreakers', Object.keys(base.circuitBreakers));
  const od = readSection(r, obj, path, 'outlierDetection', Object.keys(base.outlierDetection));
  const hc = readSection(r, obj, path, 'healthCheck', Object.keys(base.healthCheck));
  const cbPath = join(path, 'circuitBreakers');
  const odPath = join(path, 'outlierDetection');
  const hcPath = join(path, 'healthCheck');
  const count = (o: Obj, p: string, key: string, def: number, min = 0): number =>
    r.integer(o, key, p, { default: def, min, max: 1_000_000 });
  const ms = (o: Obj, p: string, key: string, def: number, min = 1): number =>
    r.integer(o, key, p, { default: def, min, max: DAY_MS });

  const healthPath = r.string(hc, 'path', hcPath, { default: base.healthCheck.path }) as string;
  // Inherited values were checked where they were written; only this level's keys are reported here.
  if (hc.path !== undefined && !healthPath.startsWith('/')) {
    r.problem(join(hcPath, 'path'), `must start with "/", got "${healthPath}"`);
  }
  const healthCheck: HealthCheckOptions = {
    enabled: r.boolean(hc, 'enabled', hcPath, { default: base.healthCheck.enabled }),
    path: healthPath,
    intervalMs: ms(hc, hcPath, 'intervalMs', base.healthCheck.intervalMs, 100),
    timeoutMs: ms(hc, hcPath, 'timeoutMs', base.healthCheck.timeoutMs),
    unhealthyThreshold: count(hc, hcPath, 'unhealthyThreshold', base.healthCheck.unhealthyThreshold, 1),
    healthyThreshold: count(hc, hcPath, 'healthyThreshold', base.healthCheck.healthyThreshold, 1),
  };
  const ownTiming = hc.timeoutMs !== undefined || hc.intervalMs !== undefined;
  if (ownTiming && healthCheck.timeoutMs >= healthCheck.intervalMs) {
    r.problem(join(hcPath, 'timeoutMs'), `must be below intervalMs (${healthCheck.intervalMs})`);
  }
  return {
    connectTimeoutMs: ms(obj, path, 'connectTimeoutMs', base.connectTimeoutMs),
    streamIdleTimeoutMs: ms(obj, path, 'streamIdleTimeoutMs', base.streamIdleTimeoutMs, 1000),
    connectionIdleTimeoutMs: ms(obj, path, 'connectionIdleTimeoutMs', base.connectionIdleTimeoutMs, 1000),
    dnsLookupFamily:
      r.oneOf(obj, 'dnsLookupFamily', path, DNS_LOOKUP_FAMILIES, { default: base.dnsLookupFamily }) ??
      base.dnsLookupFamily,
    caFile: readAbsolutePath(r, obj, path, 'caFile', base.caFile),
    circuitBreakers: {
      maxConnections: count(cb, cbPath, 'maxConnections', base.circuitBreakers.maxConnections, 1),
      maxPendingRequests: count(cb, cbPath, 'maxPendingRequests', base.circuitBreakers.maxPendingRequests, 1),
      maxRequests: count(cb, cbPath, 'maxRequests', base.circuitBreakers.maxRequests, 1),
      maxRetries: count(cb, cbPath, 'maxRetries', base.circuitBreakers.maxRetries),
    },
    outlierDetection: {
      enabled: r.boolean(od, 'enabled', odPath, { default: base.outlierDetection.enabled }),
      consecutive5xx: count(od, odPath, 'consecutive5xx', base.outlierDetection.consecutive5xx, 1),
      intervalMs: ms(od, odPath, 'intervalMs', base.outlierDetection.intervalMs),
      baseEjectionTimeMs: ms(od, odPath, 'baseEjectionTimeMs', base.outlierDetection.baseEjectionTimeMs),
      maxEjectionPercent: r.integer(od, 'maxEjectionPercent', odPath, {
        default: base.outlierDetection.maxEjectionPercent,
        min: 0,
        max: 100,
      }),
    },
    healthCheck,
  };
}

function readSection(r: Reader, obj: Obj, path: string, key: string, known: readonly string[]): Obj {
  const p = join(path, key);
  const section = r.object(obj[key], p) ?? {};
  r.noUnknownKeys(section, p, known);
  return section;
}

export function readAbsolutePath(r: Reader, obj: Obj, path: string, key: string, def?: string): string {
  const value = r.string(obj, key, path, def !== undefined ? { default: def } : { required: true });
  if (value !== undefined && !value.startsWith('/')) {
    r.problem(join(path, key), `must be an absolute path, got "${value}"`);
  }
  return value ?? '';
}
