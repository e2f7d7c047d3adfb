/**
 * Where the configuration holds credentials, read from the schema itself: the keys marked with
 * keys.ts `secret` where they are declared, so that no separate list can fall behind the schema.
 * problems.ts never prints a value at such a path, nor at a path above one (a credential written
 * one level up, `credentials: <secret>`, is as secret).
 */
import type { z } from 'zod';
import { secretKeys } from './keys';

/** A key's path in the schema: `[]` stands for any item of a list, `*` for any key of a record. */
export type KeyPattern = readonly string[];

type Def = z.core.$ZodTypeDef & Record<string, unknown>;

/** Every path in `schema` whose declaration is marked secret. */
export function secretPaths(schema: z.core.$ZodType): KeyPattern[] {
  const found: KeyPattern[] = [];
  // No lazy schemas in the configuration, so no cycles: a schema object used at several paths
  // (a shared `rootDirectory`) is walked at each.
  const walk = (node: z.core.$ZodType, path: KeyPattern): void => {
    if (secretKeys.has(node)) found.push(path);
    const def = node._zod.def as Def;
    const inner = (key: string) => def[key] as z.core.$ZodType | undefined;
    switch (def.type) {
      case 'pipe':
        for (const key of ['in', 'out']) if (inner(key)) walk(inner(key)!, path);
        return;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        if (inner('innerType')) walk(inner('innerType')!, path);
        return;
      case 'union':
        for (const option of def.options as z.core.$ZodType[]) walk(option, path);
        return;
      case 'object':
        for (const [key, child] of Object.entries(def.shape as Record<string, z.core.$ZodType>))
          walk(child, [...path, key]);
        return;
      case 'array':
        walk(def.element as z.core.$ZodType, [...path, '[]']);
        return;
      case 'record':
        walk(def.valueType as z.core.$ZodType, [...path, '*']);
        return;
      default:
        return;
    }
  };
  walk(schema, []);
  return unique(found);
}

/** `regions[].storage.accountkey` */
export function formatPattern(pattern: KeyPattern): string {
  return pattern.reduce((out, key) => (key === '[]' ? `${out}[]` : out ? `${out}.${key}` : key), '');
}

/**
 * Whether a value at `path` (as a parse issue gives it) may be or hold a credential: the path is
 * a secret key's, lies inside one, or leads to one.
 */
export function holdsSecret(patterns: readonly KeyPattern[], path: readonly PropertyKey[]): boolean {
  return patterns.some((pattern) => {
    const n = Math.min(pattern.length, path.length);
    for (let i = 0; i < n; i++) if (!matches(pattern[i] as string, path[i] as PropertyKey)) return false;
    return true;
  });
}

function matches(pattern: string, key: PropertyKey): boolean {
  if (pattern === '[]') return typeof key === 'number';
  return pattern === '*' || pattern === String(key);
}

function unique(patterns: KeyPattern[]): KeyPattern[] {
  const seen = new Set<string>();
  return patterns.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
