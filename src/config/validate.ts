/**
 * Turns parsed YAML (after environment overrides) into a frozen GeosyncConfig, or the complete
 * list of problems: zod parses the file and runs the rules between keys as refinements on every
 * part that parsed (refine.ts), then the rules between sections (rules/), so that one mistake
 * does not hide another.
 */
import { applyEnvOverrides, type Env } from './env';
import { issueMessage, issueProblems, problem, type ConfigProblem, type KnownKeys } from './problems';
import { parsedParts, type Parsed } from './refine';
import { resolveConfig } from './resolve';
import { ENVOY_RULES } from './rules/envoy';
import { notificationsSecretSet } from './rules/notifications';
import { REGION_RULES } from './rules/regions';
import { holdsSecret, secretPaths } from './secrets';
import { configFile, type ConfigFile } from './schema';
import type { GeosyncConfig, LoadOptions } from './types';

/** In the order their problems are listed, after those of the sections. */
const RULES = [...REGION_RULES, notificationsSecretSet, ...ENVOY_RULES];

const SECRET_PATHS = secretPaths(configFile);
const secretAt = (path: readonly PropertyKey[]) => holdsSecret(SECRET_PATHS, path);

export type ValidationResult =
  | { readonly ok: true; readonly config: GeosyncConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * `env` overrides keys declared with an environment variable (env.ts) and supplies secrets the
 * file names but must not hold (rules/notifications.ts). `secrets: false` (commands that never
 * use them, like `envoy-config`) does not require them to be set.
 */
export function validateConfig(doc: unknown, env: Env = {}, opts: LoadOptions = {}): ValidationResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [problem('(root)', 'must be a mapping of configuration keys')] };
  }
  const secrets = opts.secrets ?? true;
  const knownKeys: KnownKeys = new Map();
  const parsed = configFile
    .superRefine(
      (value, ctx) => {
        const file = parsedParts<ConfigFile>(value, ctx.issues) ?? {};
        const written = value as Parsed<ConfigFile>;
        for (const issue of RULES.flatMap((rule) => rule({ file, written, env, secrets })))
          ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
      },
      { when: () => true },
    )
    .safeParse(applyEnvOverrides(doc as Record<string, unknown>, env), {
      error: issueMessage(knownKeys, secretAt),
      reportInput: true,
    });
  if (!parsed.success)
    return { ok: false, problems: issueProblems(parsed.error.issues, knownKeys, secretAt) };
  return { ok: true, config: deepFreeze(resolveConfig(parsed.data, env, opts)) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
