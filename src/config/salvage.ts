/**
 * What can be read of a file that does not parse as a whole: every part that parses on its own,
 * down to single keys. The rules in rules/ check how keys relate on this, so that one bad key
 * does not hide the problems of others (all problems are reported at once).
 */
import { z } from 'zod';

/** `T` with any part possibly missing; list items keep their index (a missing item is undefined). */
export type Salvaged<T> = T extends readonly (infer E)[]
  ? readonly (Salvaged<E> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Salvaged<T[K]> }
    : T;

type Def = z.core.$ZodTypeDef & Record<string, unknown>;

export function salvage(schema: z.core.$ZodType, value: unknown): unknown {
  const whole = z.safeParse(schema, value);
  if (whole.success) return whole.data;
  const inner = container(schema, value);
  if (inner === undefined || value === null || typeof value !== 'object') return undefined;
  const def = inner._zod.def as Def;
  if (def.type === 'array' && Array.isArray(value)) {
    return value.map((item) => salvage(def.element as z.core.$ZodType, item));
  }
  if (Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  if (def.type === 'record') {
    const of = def.valueType as z.core.$ZodType;
    return keep(entries.map(([k, v]) => [k, salvage(of, v)]));
  }
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.core.$ZodType>;
    const raw = value as Record<string, unknown>;
    return keep(Object.entries(shape).map(([k, s]) => [k, salvage(s, raw[k])]));
  }
  return undefined;
}

/** The list, record or object schema inside wrappers, or the union member `value` selects. */
function container(schema: z.core.$ZodType, value: unknown): z.core.$ZodType | undefined {
  const def = schema._zod.def as Def;
  switch (def.type) {
    case 'pipe':
      return container(def.out as z.core.$ZodType, value);
    case 'optional':
    case 'default':
    case 'prefault':
      return container(def.innerType as z.core.$ZodType, value);
    case 'union': {
      const key = def.discriminator;
      if (typeof key !== 'string' || value === null || typeof value !== 'object') return undefined;
      const chosen = (value as Record<string, unknown>)[key];
      const option = (def.options as z.core.$ZodType[]).find((o) => {
        const tag = ((o._zod.def as Def).shape as Record<string, z.core.$ZodType> | undefined)?.[key];
        return tag !== undefined && z.safeParse(tag, chosen).success;
      });
      return option && container(option, value);
    }
    case 'array':
    case 'record':
    case 'object':
      return schema;
    default:
      return undefined;
  }
}

function keep(entries: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}
