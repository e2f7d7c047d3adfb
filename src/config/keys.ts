/**
 * How one key of geosync's YAML is declared: its schema (type, bounds, messages), whether it is
 * required, optional or has a default, and its documentation, all in one expression. The section
 * files (sections/) are made of these; the JSON Schema, the README tables and the environment
 * overrides are read from the same declarations.
 *
 * Conventions of the file format, kept from the first hand-written reader:
 * - a key written without a value (`key:`, YAML null) counts as not set;
 * - an empty string counts as not set too where a string is expected, unless the key says
 *   otherwise (`envoy.accessLogPath: ''` turns the access log off);
 * - integers and booleans may also be written as strings (`"150"`, `"true"`): environment
 *   overrides are strings.
 */
import { z } from 'zod';

/** What the reference tables and the environment overrides read besides the standard keywords. */
export type KeyDoc = {
  readonly description: string;
  /** The environment variable that overrides this key (env.ts). `<REGION>`: the region's name. */
  readonly env?: string;
  /** The default as the reference shows it when the code derives it from other keys. */
  readonly defaultText?: string;
  /** Where a section is documented when the README table shows one row for it. */
  readonly docs?: string;
  /** Documented in envoy/README.md's table of cluster tuning keys. */
  readonly tuning?: boolean;
  /** The key names the environment variable that holds a secret (listed with the variables). */
  readonly namesSecretVariable?: boolean;
  /** For an optional key: the value it then inherits, shown as the JSON Schema's `default`. */
  readonly inherited?: unknown;
};

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
  return z.preprocess(fromYaml(inner), inner).meta(doc);
}

export function optional<T extends z.ZodType>(inner: T, { inherited, ...doc }: KeyDoc) {
  // On the inner schema: the JSON Schema drops a `default` set on a transforming one (the preprocess).
  const value = inherited === undefined ? inner.optional() : inner.optional().meta({ default: inherited });
  return z.preprocess(fromYaml(inner), value).meta(doc);
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
  return z.preprocess(fromYaml(inner, keepEmpty), inner.prefault(value)).meta(doc);
}

/** A mapping of keys; absent, it is `{}` so that its keys' defaults apply. Unknown keys are errors. */
export function section<S extends z.ZodRawShape>(shape: S, doc: KeyDoc) {
  return z.preprocess(fromYaml(z.object({})), z.strictObject(shape).prefault({} as never)).meta(doc);
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
