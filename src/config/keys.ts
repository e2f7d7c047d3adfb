/**
 * How a key is declared: its schema (type, bounds, default, messages) and, in the one registry
 * `keyDocs`, its documentation, which the JSON Schema, the docs/configuration.md tables, the
 * environment overrides (env.ts) and the secret keys (problems.ts) are read from.
 *
 * Conventions of the file format: a key written without a value (YAML null) is not set, nor is an
 * empty string where text is expected (unless the key keeps it: `envoy.accessLogPath: ''` turns
 * the access log off); integers and booleans may be written as strings, as environment overrides are.
 */
import { z } from 'zod';

export interface KeyDoc {
  readonly description?: string;
  /** The environment variable that overrides the key (`<REGION>`: the region's name, env.ts). */
  readonly env?: string;
  /** The key holds a credential: its problems name the kind of value, never the value. */
  readonly secret?: boolean;
  /** The default as the tables show it, where the code derives it from other keys. */
  readonly defaultText?: string;
  /** Where a section is documented when the docs/configuration.md table shows one row for it. */
  readonly docs?: string;
  /** Documented in envoy/README.md's table of cluster tuning keys. */
  readonly tuning?: boolean;
  /** The key names the environment variable that holds a secret (listed with the variables). */
  readonly namesSecretVariable?: boolean;
}

export const keyDocs = z.registry<KeyDoc>();

type Docs<S> = { readonly [K in keyof S]: string };

export function documented<T extends z.ZodType>(schema: T, doc: KeyDoc | string): T {
  keyDocs.add(schema, { ...keyDocs.get(schema), ...(typeof doc === 'string' ? { description: doc } : doc) });
  return schema;
}

/** `shape` with each key's description from `docs`, which the compiler makes list every key. */
export function described<S extends z.ZodRawShape>(shape: S, docs: Docs<S>): S {
  for (const [key, schema] of Object.entries(shape)) documented(schema as z.ZodType, docs[key] as string);
  return shape;
}

export const secret = <T extends z.ZodType>(schema: T): T => documented(schema, { secret: true });
export const env = <T extends z.ZodType>(name: string, schema: T): T => documented(schema, { env: name });

/** Normalises what YAML (or an environment variable) gave before `inner` checks it. */
function fromYaml(inner: z.ZodType, keepEmpty = false): (value: unknown) => unknown {
  const type = inner._zod.def.type;
  // Only where text is expected: an empty integer, list or mapping stays an error.
  const emptyIsUnset = !keepEmpty && takesText(inner);
  return (value) => {
    if (value === null || (value === '' && emptyIsUnset)) return undefined;
    if (typeof value !== 'string') return value;
    if (type === 'number' && /^-?\d+$/.test(value.trim())) return Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
    return value;
  };
}

function takesText(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def as z.core.$ZodTypeDef & { in?: z.core.$ZodType };
  if (def.type === 'pipe' && def.in) return takesText(def.in);
  return def.type === 'string' || def.type === 'enum' || def.type === 'literal';
}

export const required = <T extends z.ZodType>(inner: T) => z.preprocess(fromYaml(inner), inner);

/** `defaultText`: what applies when the key is not set, for the tables. */
export function optional<T extends z.ZodType>(inner: T, defaultText?: string) {
  const schema = z.preprocess(fromYaml(inner), inner.optional());
  return defaultText === undefined ? schema : documented(schema, { defaultText });
}

/** `value` is written as in the file. `keepEmpty`: '' is a value of its own, not "unset". */
export function defaulted<T extends z.ZodType>(inner: T, value: z.input<T> & {}, keepEmpty = false) {
  return z.preprocess(fromYaml(inner, keepEmpty), inner.prefault(value));
}

/** A mapping of keys described in `docs`; unknown keys are errors. */
export const object = <S extends z.ZodRawShape>(shape: S, docs: Docs<S>) =>
  z.strictObject(described(shape, docs));

/** `object` as a section of the file: `{}` when absent, so that its keys' defaults apply. */
export const mapping = <T extends z.ZodType>(object: T) =>
  z.preprocess(fromYaml(z.object({})), object.prefault({} as never));

export const section = <S extends z.ZodRawShape>(shape: S, docs: Docs<S>) => mapping(object(shape, docs));

/** An integer within bounds (both inclusive). */
export const integer = (min: number, max?: number) =>
  max === undefined ? z.int().min(min) : z.int().min(min).max(max);

/** A string `pattern` matches; the problem says it `must be ${what}`. */
export const matching = (pattern: RegExp, what: string) =>
  z.string().regex(pattern, { error: (iss) => `must be ${what}, got "${String(iss.input)}"` });

// A regex, not startsWith: the JSON Schema then has a plain `pattern`, not a non-standard `format`.
export const absolutePath = () => matching(/^\//, 'an absolute path');
