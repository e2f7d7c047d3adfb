/**
 * Problems of a configuration, each with the path of the offending key, in the words the
 * reference uses: zod's issues (the schema's and the rules') are translated here. A value at a
 * key marked `secret` (keys.ts), inside one or leading to one, is never printed: only its kind.
 */
import { z } from 'zod';
import { docSchema, schemaKeys } from './json-schema';

export interface ConfigProblem {
  /** Dotted path of the offending key, e.g. `regions[1].storage.bucket`; `(root)` for the file. */
  readonly path: string;
  readonly message: string;
}

type Path = readonly PropertyKey[];
/** A key's path in the schema: `[]` stands for any item of a list, `*` for any key of a mapping. */
export type KeyPattern = readonly string[];
type SecretAt = (path: Path) => boolean;
/** The keys an object declares, by the path of the object, for the unknown-key messages. */
export type KnownKeys = Map<string, readonly string[]>;

export function problem(path: Path | string, message: string): ConfigProblem {
  return { path: typeof path === 'string' ? path : formatPath(path), message };
}

const formatPath = (path: Path): string => z.core.toDotPath([...path]) || '(root)';

/** Every path in `schema` whose declaration is marked secret. */
export function secretPaths(schema: z.core.$ZodType): KeyPattern[] {
  const paths = schemaKeys(docSchema(schema)).flatMap((k) => (k.schema.secret ? [k.path] : []));
  return [...new Map(paths.map((p) => [p.join('.'), p])).values()];
}

/** Whether `path` (as an issue gives it) is a secret key's, lies inside one, or leads to one. */
export function holdsSecret(patterns: readonly KeyPattern[], path: Path): boolean {
  return patterns.some((pattern) =>
    pattern
      .slice(0, path.length)
      .every((key, i) =>
        key === '[]' ? typeof path[i] === 'number' : key === '*' || key === String(path[i]),
      ),
  );
}

/** The value a problem quotes, or (`secret`) only its kind. */
function describe(value: unknown, secret = false): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return secret ? 'a string' : `"${value}"`;
  if (secret) return typeof value === 'boolean' ? 'true or false' : `a ${typeof value}`;
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = {
  ...{ object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string' },
  ...{ number: 'an integer', int: 'an integer', boolean: 'true or false' },
};

/**
 * Translates zod's issues. Keys the schema does not know are one problem each, with the closest
 * known key when one is close (a typo must not silently fall back to a default). A message at a
 * secret's path that still quotes the value (a schema's own wording) is replaced.
 */
export function issueProblems(issues: readonly z.core.$ZodIssue[], knownKeys: KnownKeys, secretAt: SecretAt) {
  return issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code !== 'unrecognized_keys') {
      const text =
        typeof issue.input === 'string' || typeof issue.input === 'number' ? String(issue.input) : '';
      const quotes = secretAt(issue.path) && text !== '' && issue.message.includes(text);
      return [
        problem(issue.path, quotes ? `is not valid, got ${describe(issue.input, true)}` : issue.message),
      ];
    }
    const known = knownKeys.get(formatPath(issue.path)) ?? [];
    return issue.keys.map((key) => {
      const near = closestKey(key, known);
      const hint = near ? `did you mean ${near}?` : `known keys: ${known.join(', ')}`;
      return problem([...issue.path, key], `unknown key (${hint})`);
    });
  });
}

/**
 * The message of an issue the schema did not word itself. Called once per issue with the
 * schema that raised it; records the keys of objects that met unknown keys in `knownKeys`.
 */
export function issueMessage(knownKeys: KnownKeys, secretAt: SecretAt) {
  return (issue: z.core.$ZodRawIssue): string | undefined => {
    const got = describe(issue.input, secretAt(issue.path ?? []));
    const bound = (op: string, limit: unknown) =>
      `must be ${op} ${String(limit)}, got ${got.replace(/^number /, '')}`;
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) return 'is required';
        return `must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${got}`;
      case 'too_small':
        return bound(issue.inclusive === false ? '>' : '>=', issue.minimum);
      case 'too_big':
        return bound(issue.inclusive === false ? '<' : '<=', issue.maximum);
      case 'invalid_value':
        if (issue.input === undefined) return 'is required';
        return `must be one of ${issue.values.map(String).join(', ')}, got ${got}`;
      case 'invalid_union': {
        // A discriminated union (regions[].storage) reports at the discriminator's path.
        if (!('discriminator' in issue) || typeof issue.discriminator !== 'string') return undefined;
        const value = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        if (value === undefined || value === null || value === '') return 'is required';
        return `must be one of ${(issue.options as unknown[]).map(String).join(', ')}, got ${describe(value)}`;
      }
      case 'unrecognized_keys': {
        const shape = (issue.inst?._zod.def as { shape?: object } | undefined)?.shape;
        knownKeys.set(formatPath(issue.path ?? []), Object.keys(shape ?? {}));
        return 'unknown key';
      }
      default:
        return undefined;
    }
  };
}

/**
 * The closest known key, if one is close: within a third of the key's length (a dropped "Ms", a
 * swapped pair, a wrong case, not a different word), by optimal string alignment distance.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(key.length / 3));
  const scored = known.map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }));
  return scored.filter(({ d }) => d <= limit).sort((x, y) => x.d - y.d)[0]?.k;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => i || j),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const above = d[i - 1]!;
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}
