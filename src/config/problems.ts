/**
 * Problems of a configuration, each with the path of the offending key, in the words the
 * reference uses: zod's issues (the schema's and the rules') are translated here.
 */
import { z } from 'zod';
import { closestKey } from './suggest';

export interface ConfigProblem {
  /** Dotted path of the offending key, e.g. `regions[1].storage.bucket`; `(root)` for the file. */
  readonly path: string;
  readonly message: string;
}

type Path = readonly PropertyKey[];

export function problem(path: Path | string, message: string): ConfigProblem {
  return { path: typeof path === 'string' ? path : formatPath(path), message };
}

export const formatPath = (path: Path): string => z.core.toDotPath([...path]) || '(root)';

/**
 * Whether the value at a path may be or hold a credential (secrets.ts `holdsSecret`, from the
 * keys the schema marks secret): a problem there names the kind of value it got, never the value.
 */
export type SecretAt = (path: Path) => boolean;

/** The value a problem quotes, or (`secret`) only its kind. */
export function describe(value: unknown, secret = false): string {
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

/** The keys an object declares, by the path of the object, for the unknown-key messages. */
export type KnownKeys = Map<string, readonly string[]>;

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
