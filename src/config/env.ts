/**
 * Environment variables that override keys of the file: the keys declared with `env` (schema.ts and
 * sections/), read off the JSON Schema. This is the only module that reads process.env; everything
 * else receives the merged, validated configuration.
 */
import { envVariables } from './reference/env-variables';

export type Env = Readonly<Record<string, string | undefined>>;

/** Variables that override one key of the file: name → key path. */
export const ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[]]> = envVariables()
  .filter((v) => !v.path.includes('[]'))
  .map((v) => [v.name, v.path] as const);

/** Variables that set a key of each region's storage (`<REGION>`: the name upper-cased, `-` → `_`). */
const REGION_VARIABLES = envVariables().filter((v) => v.path[0] === 'regions' && v.path[1] === '[]');

export function processEnv(): Env {
  return process.env;
}

/**
 * Threads in libuv's pool (`UV_THREADPOOL_SIZE`, 4 when unset: https://docs.libuv.org/en/v1.x/threadpool.html),
 * which runs every filesystem call and DNS lookup. `geosync serve` sets it (src/main.ts).
 */
export function threadpoolSize(env: Env = processEnv()): number {
  const n = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4;
}

export function regionVariable(pattern: string, region: string): string {
  return pattern.replace('<REGION>', region.toUpperCase().replace(/[^A-Z0-9]/g, '_'));
}

/** Returns a copy of `raw` with the overrides applied (the input is not modified). */
export function applyEnvOverrides(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const merged = structuredClone(raw);
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') setIn(merged, path, value);
  }
  const regions = merged.regions;
  if (!Array.isArray(regions)) return merged;
  for (const region of regions) {
    if (!isMapping(region) || typeof region.name !== 'string' || !isMapping(region.storage)) continue;
    for (const v of REGION_VARIABLES) {
      const value = env[regionVariable(v.name, region.name)];
      // Credentials only for the storage kind that has them (a stray variable changes nothing).
      if (value && region.storage.type === v.storageType) setIn(region, v.path.slice(2), value);
    }
  }
  return merged;
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isMapping(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
