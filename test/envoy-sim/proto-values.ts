/**
 * Readers for the protobuf JSON/YAML value forms a static bootstrap uses: durations ("0.5s" or
 * {seconds, nanos}), wrapped scalars (UInt32Value as a bare number or {value}), and RE2 regexes.
 * A config error names the path of the offending key, like Envoy's validation.
 */
export type Obj = Record<string, unknown>;

export class BootstrapError extends Error {
  constructor(path: string, message: string) {
    super(`envoy-sim bootstrap: ${path}: ${message}`);
    this.name = 'BootstrapError';
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, path: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new BootstrapError(path, 'expected an object');
  return v;
}

export function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BootstrapError(path, 'expected a list');
  return v;
}

export function str(v: unknown, path: string, fallback?: string): string {
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new BootstrapError(path, 'required string is missing');
  }
  if (typeof v !== 'string') throw new BootstrapError(path, 'expected a string');
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, path);
}

export function bool(v: unknown, path: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (isObj(v) && 'value' in v) return bool(v.value, `${path}.value`, fallback); // BoolValue
  if (typeof v !== 'boolean') throw new BootstrapError(path, 'expected a bool');
  return v;
}

export function uint(v: unknown, path: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (isObj(v) && 'value' in v) return uint(v.value, `${path}.value`, fallback); // UInt32Value
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new BootstrapError(path, 'expected an unsigned integer');
  return n;
}

/** google.protobuf.Duration in JSON ("1.5s") or object ({seconds, nanos}) form, in milliseconds. */
export function durationMs(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v.trim());
    if (!m?.[1]) throw new BootstrapError(path, `bad duration '${v}' (expected e.g. "0.5s")`);
    return Math.round(Number(m[1]) * 1000);
  }
  if (isObj(v)) return Number(v.seconds ?? 0) * 1000 + Math.round(Number(v.nanos ?? 0) / 1e6);
  throw new BootstrapError(path, 'expected a duration');
}

/**
 * RE2 → JavaScript. Envoy's safe_regex matchers require a full match (CompiledGoogleReMatcher uses
 * RE2::FullMatch), so the pattern is anchored. `(?P<name>` is RE2's named group syntax.
 */
export function fullRegex(pattern: string, path: string, flags = ''): RegExp {
  try {
    return new RegExp(`^(?:${pattern.replace(/\(\?P</g, '(?<')})$`, flags);
  } catch (e) {
    throw new BootstrapError(path, `invalid regex: ${(e as Error).message}`);
  }
}

/** The `regex` of a RegexMatcher ({ regex, google_re2 }). */
export function regexMatcher(v: unknown, path: string, flags = ''): RegExp {
  return fullRegex(str(obj(v, path).regex, `${path}.regex`), `${path}.regex`, flags);
}

/** The type URL of a typed_config, without the `type.googleapis.com/` prefix. */
export function typeName(typedConfig: Obj): string {
  return String(typedConfig['@type'] ?? '').replace(/^.*\//, '');
}
