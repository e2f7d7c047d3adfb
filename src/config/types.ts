/**
 * The validated, immutable configuration of one geosync instance (one region), as the rest of
 * geosync sees it. The types follow from the one declaration of the file (schema.ts) and from the
 * values derived from several keys (resolve.ts); README.md's "Configuration reference" is
 * generated from the same declaration.
 */
import type { ConfigFile } from './schema';
import type { ClusterTuning } from './sections/cluster-tuning';
import type { RegistryLookupConfig } from './sections/registry-lookup';

export { formatListen, type ListenAddress } from './sections/listen';
export type { ClusterTuning, UpstreamProtocol } from './sections/cluster-tuning';

/** Read-only all the way down: the validated configuration is deep-frozen. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type FileRegion = ConfigFile['regions'][number];
type FileStorage = NonNullable<FileRegion['storage']>;
type FileS3 = Extract<FileStorage, { type: 's3' }>;

export type FilesystemStorage = DeepReadonly<Extract<FileStorage, { type: 'filesystem' }>>;

export type S3Storage = DeepReadonly<
  Omit<FileS3, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'> & {
    /** Absent: the AWS SDK's default provider chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  }
>;

export type AzureStorage = DeepReadonly<Extract<FileStorage, { type: 'azure' }>>;
export type GcsStorage = DeepReadonly<Extract<FileStorage, { type: 'gcs' }>>;

export type StorageConfig = S3Storage | FilesystemStorage | AzureStorage | GcsStorage;
export type RegistryLookup = DeepReadonly<RegistryLookupConfig>;

interface RegionBase {
  readonly name: string;
  readonly url: string;
}

/** A region whose storage geosync reads (`lookup: storage`, the default). */
export interface StorageRegion extends RegionBase {
  readonly lookup: 'storage';
  readonly storage: StorageConfig;
}

/**
 * A region whose registry geosync asks through the OCI distribution API (`lookup: registry`); its
 * storage, when given, serves what reads storage only (this region's own tag history).
 */
export interface RegistryRegion extends RegionBase {
  readonly lookup: 'registry';
  readonly storage?: StorageConfig;
  readonly registry: RegistryLookup;
}

export type RegionConfig = StorageRegion | RegistryRegion;

export type LocateConfig = DeepReadonly<ConfigFile['locate']>;
export type CacheConfig = LocateConfig['cache'];
export type BreakerConfig = LocateConfig['breaker'];
export type HealthCheckConfig = LocateConfig['healthCheck'];
export type TelemetryConfig = DeepReadonly<ConfigFile['telemetry']>;
export type LogLevel = TelemetryConfig['logLevel'];

export interface NotificationsConfig {
  readonly enabled: boolean;
  readonly path: string;
  /** Lower-cased, as Node presents header names. */
  readonly authHeaderName: string;
  /** The exact header value a request must carry; from the environment, set whenever `enabled`. */
  readonly authHeaderValue?: string;
}

type FileEnvoy = ConfigFile['envoy'];

/** The `envoy:` section with every derived default resolved: what `geosync envoy-config` builds from. */
export type EnvoyOptions = DeepReadonly<
  Pick<FileEnvoy, 'listener' | 'admin' | 'accessLogPath'> & {
    ignorePortInHostMatching: boolean;
    localRegistry: { address: string; port: number; tls: boolean; sni: string; tuning: ClusterTuning };
    extProc: { messageTimeoutMs: number; connectTimeoutMs: number; maxStreamsPerConnection: number };
    /** Tuning of every sibling region's cluster, by region name. */
    siblings: Record<string, ClusterTuning>;
  }
>;

export type GeosyncConfig = DeepReadonly<
  Omit<ConfigFile, 'regions' | 'preference' | 'notifications' | 'envoy'>
> & {
  /** Every replica, this one included, in the order the operator wrote them. */
  readonly regions: readonly RegionConfig[];
  /** Sibling regions in the order they are preferred as a source. */
  readonly preference: readonly string[];
  readonly notifications: NotificationsConfig;
  readonly envoy: EnvoyOptions;
};

/** How a configuration is loaded: `secrets: false` for commands that never use them. */
export interface LoadOptions {
  readonly secrets?: boolean;
}
