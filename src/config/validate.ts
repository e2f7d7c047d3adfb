/**
 * Turns parsed YAML (after environment overrides) into a frozen GeosyncConfig, or the complete
 * list of problems: zod parses the file and runs the rules between keys as refinements on every
 * part that parsed (refine.ts), then the rules between sections (rules.ts), so that one mistake
 * does not hide another.
 */
import { applyEnvOverrides, type Env } from './env';
import {
  holdsSecret,
  issueMessage,
  issueProblems,
  problem,
  secretPaths,
  type ConfigProblem,
  type KnownKeys,
} from './problems';
import { withRules } from './refine';
import { RULES, sharedHost } from './rules';
import { configFile, type ConfigFile } from './schema';
import { mergeTuning } from './sections/cluster-tuning';
import type { EnvoyOptions, GeosyncConfig, LoadOptions } from './types';

const SECRET_PATHS = secretPaths(configFile);
const secretAt = (path: readonly PropertyKey[]) => holdsSecret(SECRET_PATHS, path);

export type ValidationResult =
  | { readonly ok: true; readonly config: GeosyncConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * `env` overrides keys declared with an environment variable (env.ts) and supplies secrets the
 * file names but must not hold. `secrets: false` (commands that never use them, like
 * `envoy-config`) does not require them to be set.
 */
export function validateConfig(doc: unknown, env: Env = {}, opts: LoadOptions = {}): ValidationResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [problem('(root)', 'must be a mapping of configuration keys')] };
  }
  const secrets = opts.secrets ?? true;
  const knownKeys: KnownKeys = new Map();
  const parsed = withRules(configFile, (file, written) =>
    RULES.flatMap((rule) => rule({ file, written, env, secrets })),
  ).safeParse(applyEnvOverrides(doc as Record<string, unknown>, env), {
    error: issueMessage(knownKeys, secretAt),
    reportInput: true,
  });
  if (!parsed.success)
    return { ok: false, problems: issueProblems(parsed.error.issues, knownKeys, secretAt) };
  return { ok: true, config: deepFreeze(resolve(parsed.data, env, secrets)) };
}

/** What follows from several keys: preference order, the notifications secret, the Envoy options. */
function resolve(file: ConfigFile, env: Env, secrets: boolean): GeosyncConfig {
  const { authHeader, ...notifications } = file.notifications;
  const secret = notifications.enabled && secrets ? env[authHeader.valueFromEnv] : undefined;
  const ranked = file.preference ?? [];
  const siblings = file.regions.filter((r) => r.name !== file.region);
  const { address, port, tls, sni, ...tuning } = file.envoy.localRegistry;
  const { listener, admin, extProc, accessLogPath } = file.envoy;
  const envoy: EnvoyOptions = {
    ...{ listener, admin, extProc, accessLogPath },
    ignorePortInHostMatching: file.envoy.ignorePortInHostMatching ?? sharedHost(file.regions) === undefined,
    localRegistry: { address, port, tls, sni: sni ?? address, tuning },
    siblings: Object.fromEntries(
      siblings.map((r) => [r.name, mergeTuning(file.envoy.siblingDefaults, file.envoy.siblings?.[r.name])]),
    ),
  };
  return {
    ...file,
    // A maximum below the minimum reads as the minimum: raising only lookupTimeoutMs keeps working.
    lookupTimeoutMaxMs: Math.max(file.lookupTimeoutMs, file.lookupTimeoutMaxMs),
    // Ranked siblings first, then the others in `regions` order.
    preference: [...ranked, ...siblings.map((r) => r.name).filter((n) => !ranked.includes(n))],
    notifications: {
      ...notifications,
      authHeaderName: authHeader.name.toLowerCase(),
      ...(secret !== undefined ? { authHeaderValue: secret } : {}),
    },
    envoy,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
