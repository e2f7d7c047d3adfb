/**
 * Where the configuration holds credentials, read from the schema itself: the keys marked with
 * keys.ts `secret` where they are declared, so that no separate list can fall behind the schema.
 * problems.ts never prints a value at such a path, nor at a path above one (a credential written
 * one level up, `credentials: <secret>`, is as secret).
 */
import type { z } from 'zod';
import { docSchema, schemaKeys } from './json-schema';

/** A key's path in the schema: `[]` stands for any item of a list, `*` for any key of a mapping. */
export type KeyPattern = readonly string[];

/** Every path in `schema` whose declaration is marked secret. */
export function secretPaths(schema: z.core.$ZodType): KeyPattern[] {
  const paths = schemaKeys(docSchema(schema)).flatMap((k) => (k.schema.secret ? [k.path] : []));
  return [...new Map(paths.map((p) => [p.join('.'), p])).values()];
}

/** `regions[].storage.accountkey` */
export function formatPattern(pattern: KeyPattern): string {
  return pattern.join('.').replace(/\.\[\]/g, '[]');
}

/**
 * Whether a value at `path` (as a parse issue gives it) may be or hold a credential: the path is
 * a secret key's, lies inside one, or leads to one.
 */
export function holdsSecret(patterns: readonly KeyPattern[], path: readonly PropertyKey[]): boolean {
  return patterns.some((pattern) =>
    pattern
      .slice(0, path.length)
      .every((key, i) =>
        key === '[]' ? typeof path[i] === 'number' : key === '*' || key === String(path[i]),
      ),
  );
}
