/**
 * Rules between keys, as zod refinements that run even where other keys failed (`when`): a rule
 * sees the parts that parsed, which zod's own issue paths tell from those that did not, so one
 * mistake hides no other and no rule reads a value that is not valid.
 */
import type { z } from 'zod';

/** `T` with any part possibly missing (it did not parse); list items keep their index. */
export type Parsed<T> = T extends readonly (infer E)[]
  ? readonly (Parsed<E> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Parsed<T[K]> }
    : T;

export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** `written`: the value as parsed so far, failed parts as the file had them ("absent" vs "invalid"). */
type Rule<T> = (parsed: Parsed<T>, written: T) => Issue[];

/** `value` without the parts zod reported an issue at or under (an unknown key spoils no other). */
function parsedParts(value: unknown, issues: readonly z.core.$ZodRawIssue[]): unknown {
  const without = (v: unknown, [key, ...rest]: readonly PropertyKey[]): unknown => {
    if (key === undefined || v === null || typeof v !== 'object') return undefined;
    const copy = (Array.isArray(v) ? [...v] : { ...v }) as Record<PropertyKey, unknown>;
    copy[key] = without(copy[key], rest);
    return copy;
  };
  return issues.reduce(
    (out, i) => (i.code === 'unrecognized_keys' ? out : without(out, i.path ?? [])),
    value,
  );
}

/** `schema` with `rules` run on its mapping (or list) whenever it is one. */
export function withRules<T extends z.ZodType>(schema: T, ...rules: Rule<z.output<T>>[]): T {
  return schema.superRefine(
    (value, ctx) => {
      const parsed = parsedParts(value, ctx.issues) as Parsed<z.output<T>> | undefined;
      if (parsed === undefined) return;
      for (const { path, message } of rules.flatMap((rule) => rule(parsed, value)))
        ctx.addIssue({ code: 'custom', path: [...path], message });
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
}
