/**
 * Turns parsed YAML (after environment overrides) into a frozen GeosyncConfig, or the complete
 * list of problems: the schema's (schema.ts) first, then the cross-field rules' (rules/), which run
 * on every part of the file that parsed, so one mistake does not hide another.
 */
import { applyEnvOverrides, type Env } from './env';
import { configFile } from './schema';
import { issueMessage, issueProblems, problem, type ConfigProblem, type KnownKeys } from './problems';
import { resolveConfig } from './resolve';
import { RULES } from './rules/all';
import { salvage, type Salvaged } from './salvage';
import { holdsSecret, secretPaths } from './secrets';
import type { ConfigFile } from './schema';
import type { GeosyncConfig, LoadOptions } from './types';

const SECRET_PATHS = secretPaths(configFile);
const secretAt = (path: readonly PropertyKey[]) => holdsSecret(SECRET_PATHS, path);

export type ValidationResult =
  | { readonly ok: true; readonly config: GeosyncConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * `env` overrides keys declared with an environment variable (env.ts) and supplies secrets the
 * file names but must not hold (rules/notifications.ts). `secrets:
 * false` (commands that never use them, like `envoy-config`) does not require them to be set.
 */
export function validateConfig(doc: unknown, env: Env = {}, opts: LoadOptions = {}): ValidationResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [problem('(root)', 'must be a mapping of configuration keys')] };
  }
  const raw = applyEnvOverrides(doc as Record<string, unknown>, env);
  const knownKeys: KnownKeys = new Map();
  const parsed = configFile.safeParse(raw, {
    error: issueMessage(knownKeys, secretAt),
    reportInput: true,
  });
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, knownKeys, secretAt);
  const file = (parsed.success ? parsed.data : salvage(configFile, raw)) as Salvaged<ConfigFile>;
  const ctx = { file, raw, env, secrets: opts.secrets ?? true };
  problems.push(...RULES.flatMap((rule) => rule(ctx)));
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, config: deepFreeze(resolveConfig(parsed.data, env, opts)) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
