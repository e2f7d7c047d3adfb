/**
 * Builds the configuration geosync runs with from a file that parsed and passed every rule: the
 * values that follow from several keys (preference order, the notifications secret, the Envoy
 * options) and nothing else.
 */
import type { Env } from './env';
import { sharedHost } from './rules/envoy';
import { notificationsSecret } from './rules/notifications';
import type { ConfigFile } from './schema';
import { mergeTuning } from './sections/cluster-tuning';
import type { EnvoyOptions, GeosyncConfig, LoadOptions } from './types';

export function resolveConfig(file: ConfigFile, env: Env, opts: LoadOptions): GeosyncConfig {
  const { authHeader, ...notifications } = file.notifications;
  const secret = notifications.enabled && (opts.secrets ?? true) ? notificationsSecret(file, env) : undefined;
  return {
    ...file,
    // A maximum below the minimum reads as the minimum: raising only lookupTimeoutMs keeps working.
    lookupTimeoutMaxMs: Math.max(file.lookupTimeoutMs, file.lookupTimeoutMaxMs),
    preference: preferenceOrder(file),
    notifications: {
      ...notifications,
      authHeaderName: authHeader.name.toLowerCase(),
      ...(secret !== undefined ? { authHeaderValue: secret } : {}),
    },
    envoy: envoyOptions(file),
  };
}

/** Ranked siblings first, then the siblings the operator did not rank, in `regions` order. */
function preferenceOrder(file: ConfigFile): string[] {
  const ranked = file.preference ?? [];
  const siblings = file.regions.map((r) => r.name).filter((n) => n !== file.region);
  return [...ranked, ...siblings.filter((n) => !ranked.includes(n))];
}

function envoyOptions({ envoy, regions, region }: ConfigFile): EnvoyOptions {
  const { address, port, tls, sni, ...localTuning } = envoy.localRegistry;
  const siblings = regions.filter((r) => r.name !== region);
  return {
    listener: envoy.listener,
    admin: envoy.admin,
    ignorePortInHostMatching: envoy.ignorePortInHostMatching ?? sharedHost(regions) === undefined,
    localRegistry: {
      address,
      port,
      tls,
      sni: sni ?? address,
      tuning: localTuning,
    },
    extProc: envoy.extProc,
    siblings: Object.fromEntries(
      siblings.map((r) => [r.name, mergeTuning(envoy.siblingDefaults, envoy.siblings?.[r.name])]),
    ),
    accessLogPath: envoy.accessLogPath,
  };
}
