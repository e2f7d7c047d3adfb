/**
 * The environment variables that override keys of the file, named where each key is declared
 * (keys.ts `env`). The only module that reads process.env: everything else receives the merged,
 * validated configuration.
 */
import { docSchema, schemaKeys } from './json-schema';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvVariable {
  /** `<REGION>`: the region's name upper-cased, other characters than A-Z and 0-9 as `_`. */
  readonly name: string;
  /** The key it sets; `[]` stands for each item of `regions`. */
  readonly path: readonly string[];
  /** Only for regions whose storage is of this `type`. */
  readonly storageType?: string;
}

export const ENV_VARIABLES: readonly EnvVariable[] = schemaKeys(docSchema()).flatMap(
  ({ path, schema, variant }) =>
    schema.env ? [{ name: schema.env, path, ...(variant ? { storageType: variant } : {}) }] : [],
);

export const processEnv = (): Env => process.env;

/**
 * Threads in libuv's pool (`UV_THREADPOOL_SIZE`, 4 when unset: https://docs.libuv.org/en/v1.x/threadpool.html),
 * which runs every filesystem call and DNS lookup. `geosync serve` sets it (src/main.ts).
 */
export function threadpoolSize(env: Env = processEnv()): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

export const regionVariable = (pattern: string, region: string): string =>
  pattern.replace('<REGION>', region.toUpperCase().replace(/[^A-Z0-9]/g, '_'));

/**
 * A copy of `raw` with the overrides applied. A region's variable sets a key only where the file
 * writes the mapping that holds it, of the storage `type` that has it: a stray variable changes nothing.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const merged = structuredClone(raw);
  for (const { name, path, storageType } of ENV_VARIABLES) {
    if (path[1] !== '[]') setIn(merged, path, env[name]);
    else
      for (const region of Array.isArray(merged.regions) ? (merged.regions as unknown[]) : []) {
        const holder = path
          .slice(2, -1)
          .reduce<unknown>((node, key) => (isMapping(node) ? node[key] : undefined), region);
        if (!isMapping(region) || typeof region.name !== 'string' || !isMapping(holder)) continue;
        if (storageType === undefined || holder.type === storageType)
          setIn(holder, path.slice(-1), env[regionVariable(name, region.name)]);
      }
  }
  return merged;
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: string | undefined): void {
  if (value === undefined || value === '') return;
  let node = target;
  for (const key of path.slice(0, -1)) node = isMapping(node[key]) ? node[key] : (node[key] = {});
  node[path[path.length - 1] as string] = value;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
