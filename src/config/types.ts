/**
 * The validated, immutable configuration of one geosync instance (one region), as the rest of
 * geosync sees it: the file's declaration (schema.ts) with what follows from several keys (validate.ts).
 */
import type { ConfigFile } from './schema';
import type { ClusterTuning } from './sections/cluster-tuning';

export { formatListen, type ListenAddress } from './sections/listen';
export type { ClusterTuning, UpstreamProtocol } from './sections/cluster-tuning';

/** Read-only all the way down: the validated configuration is deep-frozen. */
type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** `lookup: storage` (the default) reads the region's storage; `lookup: registry` asks its registry's API. */
export type RegionConfig = DeepReadonly<ConfigFile['regions'][number]>;
export type StorageConfig = NonNullable<RegionConfig['storage']>;
export type S3Storage = Extract<StorageConfig, { type: 's3' }>;
export type AzureStorage = Extract<StorageConfig, { type: 'azure' }>;
export type GcsStorage = Extract<StorageConfig, { type: 'gcs' }>;
export type RegistryLookup = Extract<RegionConfig, { lookup: 'registry' }>['registry'];

type LocateConfig = DeepReadonly<ConfigFile['locate']>;
export type CacheConfig = LocateConfig['cache'];
export type BreakerConfig = LocateConfig['breaker'];
export type HealthCheckConfig = LocateConfig['healthCheck'];
export type TelemetryConfig = DeepReadonly<ConfigFile['telemetry']>;
export type LogLevel = TelemetryConfig['logLevel'];

/** The `envoy:` section with every derived default resolved: what `geosync envoy-config` builds from. */
export type EnvoyOptions = DeepReadonly<
  Pick<ConfigFile['envoy'], 'listener' | 'admin' | 'extProc' | 'accessLogPath'> & {
    ignorePortInHostMatching: boolean;
    localRegistry: { address: string; port: number; tls: boolean; sni: string; tuning: ClusterTuning };
    /** Tuning of every sibling region's cluster, by region name. */
    siblings: Record<string, ClusterTuning>;
  }
>;

export type GeosyncConfig = DeepReadonly<Omit<ConfigFile, 'preference' | 'notifications' | 'envoy'>> & {
  /** Sibling regions in the order they are preferred as a source. */
  readonly preference: readonly string[];
  readonly notifications: {
    readonly enabled: boolean;
    readonly path: string;
    /** Lower-cased, as Node presents header names. */
    readonly authHeaderName: string;
    /** The exact header value a request must carry; from the environment, set whenever `enabled`. */
    readonly authHeaderValue?: string;
  };
  readonly envoy: EnvoyOptions;
};

/** How a configuration is loaded: `secrets: false` for commands that never use them. */
export interface LoadOptions {
  readonly secrets?: boolean;
}
