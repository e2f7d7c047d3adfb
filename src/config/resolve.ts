/**
 * Builds the configuration geosync runs with from a file that parsed and passed every rule: the
 * values that follow from several keys (preference order, S3 credentials, the notifications
 * secret, the Envoy options) and nothing else.
 */
import { resolveEnvoy } from './envoy-options';
import type { Env } from './env';
import type { ConfigFile } from './schema';
import { notificationsSecret } from './rules/notifications';
import { registryLookupSchema } from './sections/registry-lookup';
import type { GeosyncConfig, LoadOptions, RegionConfig, StorageConfig } from './types';

export function resolveConfig(file: ConfigFile, env: Env, opts: LoadOptions): GeosyncConfig {
  const { authHeader, ...notifications } = file.notifications;
  const secret = notifications.enabled && (opts.secrets ?? true) ? notificationsSecret(file, env) : undefined;
  return {
    ...file,
    // A maximum below the minimum reads as the minimum: raising only lookupTimeoutMs keeps working.
    lookupTimeoutMaxMs: Math.max(file.lookupTimeoutMs, file.lookupTimeoutMaxMs),
    regions: file.regions.map(region),
    preference: preferenceOrder(file),
    notifications: {
      ...notifications,
      authHeaderName: authHeader.name.toLowerCase(),
      ...(secret !== undefined ? { authHeaderValue: secret } : {}),
    },
    envoy: resolveEnvoy(file.envoy, file),
  };
}

/** Ranked siblings first, then the siblings the operator did not rank, in `regions` order. */
function preferenceOrder(file: ConfigFile): string[] {
  const ranked = file.preference ?? [];
  const siblings = file.regions.map((r) => r.name).filter((n) => n !== file.region);
  return [...ranked, ...siblings.filter((n) => !ranked.includes(n))];
}

function region({ name, url, lookup, storage, registry }: ConfigFile['regions'][number]): RegionConfig {
  const resolved = storage && storageOf(storage);
  if (lookup === 'registry')
    return {
      name,
      url,
      lookup,
      registry: registry ?? registryLookupSchema.parse({}),
      ...(resolved ? { storage: resolved } : {}),
    };
  // rules/regions.ts refuses a `lookup: storage` region without storage before this runs.
  if (!resolved) throw new Error(`region ${name} has no storage`);
  return { name, url, lookup, storage: resolved };
}

function storageOf(storage: NonNullable<ConfigFile['regions'][number]['storage']>): StorageConfig {
  if (storage.type !== 's3') return storage as StorageConfig;
  const { accessKeyId, secretAccessKey, sessionToken, ...rest } = storage;
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {};
  return { ...rest, ...credentials };
}
