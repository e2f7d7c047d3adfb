/**
 * The validated, immutable configuration of one geosync instance (one region).
 * Every key is documented in README.md ("Configuration reference"); defaults live in
 * defaults.ts so that the documentation and the code cannot drift apart silently.
 */
import type { EnvoyOptions } from '../envoy/options';
import type { FreshnessConfig } from './freshness';

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export interface S3Storage {
  readonly type: 's3';
  readonly bucket: string;
  /** Absent: the AWS SDK resolves the endpoint for `region`. */
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** distribution's `rootdirectory`, normalised to no leading or trailing slash ('' for the bucket root). */
  readonly rootDirectory: string;
  /** Absent: the AWS SDK's default provider chain. */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Timeout of one HeadObject request; the lookup deadline still bounds it. */
  readonly requestTimeoutMs: number;
}

export interface FilesystemStorage {
  readonly type: 'filesystem';
  /** distribution's `filesystem.rootdirectory` (content lives under `<root>/docker/registry/v2`). */
  readonly root: string;
}

export type StorageConfig = S3Storage | FilesystemStorage;

export interface RegionConfig {
  readonly name: string;
  /** Absolute base URL (no trailing slash) that Envoy routes to this region's cluster. */
  readonly url: string;
  readonly storage: StorageConfig;
}

export interface CacheConfig {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Positive entries for content addressed by digest (immutable). */
  readonly digestTtlMs: number;
  /** Positive entries for tags (tags move). */
  readonly tagTtlMs: number;
  /** Negative entries: a cached miss must not hide content that has just landed. */
  readonly negativeTtlMs: number;
}

export interface BreakerConfig {
  /** Consecutive probe errors or timeouts that open a region's breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker skips the region before one trial probe. */
  readonly coolDownMs: number;
}

export interface HealthCheckConfig {
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failed checks before a region's registry counts as down. */
  readonly unhealthyThreshold: number;
}

export interface LocateConfig {
  /** After the first `found` answer, wait this long for a more preferred region to answer. */
  readonly hedgeMs: number;
  /** For blobs, also require the global blob `data` object (replication may copy a link before its data). */
  readonly probeBlobData: boolean;
  /** Probes in flight per region at most; overflow answers not found instead of queueing past the deadline. */
  readonly maxConcurrentProbesPerRegion: number;
  /** Re-open/keep each sibling's storage connection this often (0: only at start). */
  readonly keepWarmIntervalMs: number;
  readonly cache: CacheConfig;
  readonly breaker: BreakerConfig;
  readonly healthCheck: HealthCheckConfig;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface TelemetryConfig {
  readonly serviceName: string;
  /** OTLP/gRPC endpoint for traces; absent: traces are not exported. */
  readonly otlpEndpoint?: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Put repository names in span attributes (off: names can be sensitive). */
  readonly traceRepositoryNames: boolean;
  readonly logLevel: LogLevel;
}

/**
 * The admin route that receives the local registry's notifications (distribution's
 * `notifications.endpoints`, https://distribution.github.io/distribution/about/notifications/).
 */
export interface NotificationsConfig {
  readonly enabled: boolean;
  /** Path on the admin port that the registry's endpoint `url` names. */
  readonly path: string;
  /** Header that carries the shared secret (lower-cased, as Node presents header names). */
  readonly authHeaderName: string;
  /** The exact header value a request must carry; from the environment, set whenever `enabled`. */
  readonly authHeaderValue?: string;
}

/** The published staleness figures (src/staleness/): how far back, and how much memory. */
export interface StalenessConfig {
  /** Report figures of this long ago until now. */
  readonly windowMs: number;
  /** Samples kept per region pair and series; the oldest go first beyond it. */
  readonly maxSamples: number;
}

export interface GeosyncConfig {
  /** This replica's region; one of `regions[].name`. */
  readonly region: string;
  readonly listen: { readonly grpc: ListenAddress; readonly admin: ListenAddress };
  readonly lookupTimeoutMs: number;
  /** After SIGTERM: NOT_SERVING at once, open streams answered for this long, then exit 0. */
  readonly drainMs: number;
  /** Every replica, this one included, in the order the operator wrote them. */
  readonly regions: readonly RegionConfig[];
  /** Sibling regions in the order they are preferred as a source (default: `regions` order). */
  readonly preference: readonly string[];
  readonly locate: LocateConfig;
  readonly telemetry: TelemetryConfig;
  /** Proxy HEAD of manifests by digest (pulls by digest) — see src/oci/pull.ts PullPolicy. */
  readonly proxyManifestHeadByDigest: boolean;
  readonly notifications: NotificationsConfig;
  readonly staleness: StalenessConfig;
  /** The `envoy:` section, read only by `geosync envoy-config` (src/envoy/options.ts). */
  readonly envoy: EnvoyOptions;
  readonly freshness: FreshnessConfig;
}

/** How a configuration is loaded: `secrets: false` for commands that never use them. */
export interface LoadOptions {
  readonly secrets?: boolean;
}

export function formatListen(address: ListenAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `${address.host}:${address.port}`;
}
