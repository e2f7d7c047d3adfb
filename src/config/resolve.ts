/**
 * Builds the configuration geosync runs with from a file that parsed and passed every rule: the
 * values that follow from several keys (preference order, S3 credentials, the notifications
 * secret, the Envoy options) and nothing else.
 */
import { resolveEnvoy } from './envoy-options';
import type { Env } from './env';
import type { ConfigFile } from './schema';
import { notificationsSecret } from './rules/notifications';
import type { GeosyncConfig, LoadOptions, RegionConfig } from './types';

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

function region({ name, url, storage }: ConfigFile['regions'][number]): RegionConfig {
  if (storage.type !== 's3') return { name, url, storage } as RegionConfig;
  const { accessKeyId, secretAccessKey, sessionToken, ...rest } = storage;
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {};
  return { name, url, storage: { ...rest, ...credentials } };
}
