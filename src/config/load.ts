/** Reads a YAML file, applies environment overrides and validates: the only way a config is made. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { processEnv, type Env } from './env';
import { problem, type ConfigProblem } from './problems';
import type { LoadOptions } from './types';
import { validateConfig, type ValidationResult } from './validate';

export async function loadConfigFile(
  file: string,
  env: Env = processEnv(),
  opts: LoadOptions = {},
): Promise<ValidationResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const message = `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    return { ok: false, problems: [problem('(file)', message)] };
  }
  return loadConfigText(text, env, opts);
}

export function loadConfigText(text: string, env: Env = {}, opts: LoadOptions = {}): ValidationResult {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '(yaml)',
        message: `line ${e.linePos?.[0]?.line ?? '?'}: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  return validateConfig(doc.toJS(), env, opts);
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
}
