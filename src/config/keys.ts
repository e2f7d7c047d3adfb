/**
 * How one key of geosync's YAML is declared: its schema (type, bounds, messages), whether it is
 * required, optional or has a default, and its documentation, all in one expression. The section
 * files (sections/) are made of these; the JSON Schema and the docs/configuration.md tables are read from the
 * same declarations.
 *
 * Conventions of the file format, kept from the first hand-written reader:
 * - a key written without a value (`key:`, YAML null) counts as not set;
 * - an empty string counts as not set too where a string is expected, unless the key says
 *   otherwise (`envoy.accessLogPath: ''` turns the access log off);
 * - integers and booleans may also be written as strings (`"150"`, `"true"`): environment
 *   overrides are strings.
 */
import { z } from 'zod';

/**
 * A key's documentation. The description (and an optional key's inherited default) is what the
 * published JSON Schema shows; the rest is for the docs/configuration.md tables only, kept in `keyDocs` (a zod
 * registry) so that no post-processing strips it from the schema editors read. Environment
 * variables are listed in env.ts.
 */
export type KeyDoc = {
  readonly description: string;
  /** The default as the reference shows it when the code derives it from other keys. */
  readonly defaultText?: string;
  /** Where a section is documented when the docs/configuration.md table shows one row for it. */
  readonly docs?: string;
  /** Documented in envoy/README.md's table of cluster tuning keys. */
  readonly tuning?: boolean;
  /** The key names the environment variable that holds a secret (listed with the variables). */
  readonly namesSecretVariable?: boolean;
  /** For an optional key: the value it then inherits, shown as the JSON Schema's `default`. */
  readonly inherited?: unknown;
};

type DocMeta = Omit<KeyDoc, 'inherited' | 'description'> & { description?: string; default?: unknown };

/**
 * Everything the docs/configuration.md tables read (scripts/config-docs): the JSON Schema generated with this
 * registry as its metadata has the description, the default and the KeyDoc fields of each key.
 */
export const keyDocs = z.registry<DocMeta>();

/**
 * Keys whose values are credentials (keys, tokens, passwords), marked where they are declared:
 * problems with such a key, or with a mapping or list that holds one, name the kind of value they
 * got and never the value (secrets.ts reads the marks; problems.ts words the problems), so a wrong
 * type or a value one level off does not print a secret into a terminal, a CI log or Kubernetes
 * events.
 */
export const secretKeys = z.registry<{ readonly secret: true }>();

/** `schema`, marked as a key that holds a credential (secretKeys). */
export function secret<T extends z.ZodType>(schema: T): T {
  secretKeys.add(schema, { secret: true });
  return schema;
}

/** `schema` with its description in zod's global registry (the published schema) and its whole doc in keyDocs. */
export function documented<T extends z.ZodType>(schema: T, { inherited: _, ...doc }: KeyDoc): T {
  const described = schema.meta({ description: doc.description });
  keyDocs.add(described as z.ZodType, doc);
  return described;
}

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

export function required<T extends z.ZodType>(inner: T, doc: KeyDoc) {
  return documented(z.preprocess(fromYaml(inner), inner), doc);
}

export function optional<T extends z.ZodType>(inner: T, doc: KeyDoc) {
  // On the inner schema: the JSON Schema drops a `default` set on a transforming one (the preprocess).
  const inherited = doc.inherited === undefined ? undefined : { default: doc.inherited };
  const value = inherited ? inner.optional().meta(inherited) : inner.optional();
  if (inherited) keyDocs.add(value as z.ZodType, inherited);
  return documented(z.preprocess(fromYaml(inner), value), doc);
}

/**
 * `value` is written as in the file: it goes through `inner` (normalised) like any value.
 * `keepEmpty`: '' is a value of its own, not "unset".
 */
export function defaulted<T extends z.ZodType>(
  inner: T,
  value: z.input<T> & {},
  doc: KeyDoc,
  keepEmpty = false,
) {
  return documented(z.preprocess(fromYaml(inner, keepEmpty), inner.prefault(value)), doc);
}

/** A mapping of keys; absent, it is `{}` so that its keys' defaults apply. Unknown keys are errors. */
export function section<S extends z.ZodRawShape>(shape: S, doc: KeyDoc) {
  return documented(z.preprocess(fromYaml(z.object({})), z.strictObject(shape).prefault({} as never)), doc);
}

/** An integer within bounds (both inclusive). */
export function integer(min: number, max?: number) {
  const int = z.int().min(min);
  return max === undefined ? int : int.max(max);
}

// A regex, not startsWith: the JSON Schema then has a plain `pattern` (startsWith adds a
// non-standard `format`).
export function absolutePath() {
  return z.string().regex(/^\//, { error: (iss) => `must be an absolute path, got "${String(iss.input)}"` });
}
