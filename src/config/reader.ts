/**
 * A small, typed reader over parsed YAML that collects every problem with the path of the
 * offending key instead of stopping at the first one. Validation happens once, here; the
 * result is frozen and nothing downstream re-checks it.
 */

export interface ConfigProblem {
  /** Dotted path of the offending key, e.g. `regions[1].storage.bucket`. */
  readonly path: string;
  readonly message: string;
}

export type Obj = Record<string, unknown>;

export class Reader {
  readonly problems: ConfigProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path: path || '(root)', message });
  }

  /** Reports keys the schema does not know: a typo must not silently fall back to a default. */
  noUnknownKeys(obj: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key))
        this.problem(join(path, key), `unknown key (known keys: ${known.join(', ')})`);
    }
  }

  object(value: unknown, path: string, opts: { required?: boolean } = {}): Obj | undefined {
    if (value === undefined || value === null) {
      if (opts.required) this.problem(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, `must be a mapping, got ${describe(value)}`);
      return undefined;
    }
    return value as Obj;
  }

  array(value: unknown, path: string, opts: { required?: boolean } = {}): unknown[] | undefined {
    if (value === undefined || value === null) {
      if (opts.required) this.problem(path, 'is required');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.problem(path, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  string(
    obj: Obj,
    key: string,
    path: string,
    opts: { required?: boolean; default?: string } = {},
  ): string | undefined {
    const value = obj[key];
    const p = join(path, key);
    if (value === undefined || value === null || value === '') {
      if (opts.required && opts.default === undefined) this.problem(p, 'is required');
      return opts.default;
    }
    if (typeof value !== 'string') {
      this.problem(p, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  integer(
    obj: Obj,
    key: string,
    path: string,
    opts: { default: number; min?: number; max?: number },
  ): number {
    const value = obj[key];
    const p = join(path, key);
    if (value === undefined || value === null) return opts.default;
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.problem(p, `must be an integer, got ${describe(value)}`);
      return opts.default;
    }
    if (opts.min !== undefined && n < opts.min) {
      this.problem(p, `must be >= ${opts.min}, got ${n}`);
      return opts.default;
    }
    if (opts.max !== undefined && n > opts.max) {
      this.problem(p, `must be <= ${opts.max}, got ${n}`);
      return opts.default;
    }
    return n;
  }

  boolean(obj: Obj, key: string, path: string, opts: { default: boolean }): boolean {
    const value = obj[key];
    if (value === undefined || value === null) return opts.default;
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (typeof value !== 'boolean') {
      this.problem(join(path, key), `must be true or false, got ${describe(value)}`);
      return opts.default;
    }
    return value;
  }

  oneOf<T extends string>(
    obj: Obj,
    key: string,
    path: string,
    choices: readonly T[],
    opts: { default?: T; required?: boolean } = {},
  ): T | undefined {
    const value = this.string(obj, key, path, opts);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) {
      this.problem(join(path, key), `must be one of ${choices.join(', ')}, got "${value}"`);
      return undefined;
    }
    return value as T;
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}
