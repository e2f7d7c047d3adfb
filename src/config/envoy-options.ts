/**
 * The `envoy:` values derived from other keys: host matching from the regions' URLs, each
 * cluster's tuning from its levels. Used by rules/envoy.ts to check them and by resolve.ts to
 * build EnvoyOptions.
 */
import type { ConfigFile } from './schema';
import type { Salvaged } from './salvage';
import type { EnvoyOptions } from './types';
import {
  CLUSTER_DEFAULTS,
  clusterTuningOverrides,
  LOCAL_CLUSTER_DEFAULTS,
  type ClusterTuning,
  type ClusterTuningOverrides,
} from './sections/cluster-tuning';

type Envoy = ConfigFile['envoy'];
type Overrides = Salvaged<ClusterTuningOverrides> | undefined;

/** "regions a and b share host h" for the first two regions whose URLs share a host name. */
export function sharedHost(regions: readonly { name: string; url: string }[]): string | undefined {
  const seen = new Map<string, string>();
  for (const region of regions) {
    const host = new URL(region.url).hostname;
    const other = seen.get(host);
    if (other !== undefined) return `regions ${other} and ${region.name} share host ${host}`;
    seen.set(host, region.name);
  }
  return undefined;
}

/** The tuning keys of `envoy.localRegistry` (which also holds the registry's address). */
export function localOverrides(local: Salvaged<Envoy['localRegistry']> | undefined): Overrides {
  if (!local) return undefined;
  const keys = Object.keys(clusterTuningOverrides.shape) as (keyof ClusterTuningOverrides)[];
  return Object.fromEntries(keys.map((k) => [k, local[k]]));
}

/** `own`'s keys over `base`, one level of nesting deep (circuitBreakers, …). */
export function mergeTuning(base: ClusterTuning, own: Overrides): ClusterTuning {
  return {
    ...base,
    ...defined(own),
    circuitBreakers: { ...base.circuitBreakers, ...defined(own?.circuitBreakers) },
    outlierDetection: { ...base.outlierDetection, ...defined(own?.outlierDetection) },
    healthCheck: { ...base.healthCheck, ...defined(own?.healthCheck) },
  };
}

export function siblingBase(envoy: Salvaged<Envoy> | undefined): ClusterTuning {
  return mergeTuning(CLUSTER_DEFAULTS, envoy?.siblingDefaults);
}

export function localTuning(envoy: Salvaged<Envoy> | undefined): ClusterTuning {
  return mergeTuning(LOCAL_CLUSTER_DEFAULTS, localOverrides(envoy?.localRegistry));
}

export function resolveEnvoy(envoy: Envoy, file: ConfigFile): EnvoyOptions {
  const base = siblingBase(envoy);
  const siblings = file.regions.filter((r) => r.name !== file.region);
  const { address, port, tls, sni } = envoy.localRegistry;
  return {
    listener: envoy.listener,
    admin: envoy.admin,
    ignorePortInHostMatching: envoy.ignorePortInHostMatching ?? sharedHost(file.regions) === undefined,
    localRegistry: { address, port, tls, sni: sni ?? address, tuning: localTuning(envoy) },
    extProc: envoy.extProc,
    siblings: Object.fromEntries(siblings.map((r) => [r.name, mergeTuning(base, envoy.siblings?.[r.name])])),
    accessLogPath: envoy.accessLogPath,
  };
}

function defined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
