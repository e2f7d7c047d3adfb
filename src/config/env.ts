/**
 * The environment variables that override keys of the file: this table is their one list (the
 * README's table and the JSON Schema's descriptions are generated from it). This is the only
 * module that reads process.env; everything else receives the merged, validated configuration.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvVariable {
  readonly name: string;
  /** The key it sets; `[]` stands for each item of `regions`. */
  readonly path: readonly string[];
  /** Only for regions whose storage is of this `type`. */
  readonly storageType?: 's3' | 'azure';
  /** Only for regions with this `lookup`. */
  readonly lookup?: 'registry';
}

/** `<REGION>`: the region's name upper-cased, other characters than A-Z and 0-9 as `_`. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'GEOSYNC_REGION', path: ['region'] },
  { name: 'GEOSYNC_LISTEN_GRPC', path: ['listen', 'grpc'] },
  { name: 'GEOSYNC_LISTEN_ADMIN', path: ['listen', 'admin'] },
  { name: 'GEOSYNC_WORKERS', path: ['listen', 'workers'] },
  { name: 'GEOSYNC_LOOKUP_TIMEOUT_MS', path: ['lookupTimeoutMs'] },
  { name: 'GEOSYNC_LOOKUP_TIMEOUT_MAX_MS', path: ['lookupTimeoutMaxMs'] },
  { name: 'GEOSYNC_DRAIN_MS', path: ['drainMs'] },
  { name: 'GEOSYNC_OTLP_ENDPOINT', path: ['telemetry', 'otlpEndpoint'] },
  { name: 'GEOSYNC_LOG_LEVEL', path: ['telemetry', 'logLevel'] },
  ...(['accessKeyId', 'secretAccessKey', 'sessionToken'] as const).map((key) => ({
    name: `GEOSYNC_S3_<REGION>_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
    path: ['regions', '[]', 'storage', key],
    storageType: 's3' as const,
  })),
  {
    name: 'GEOSYNC_AZURE_<REGION>_ACCOUNT_KEY',
    path: ['regions', '[]', 'storage', 'accountkey'],
    storageType: 'azure',
  },
  {
    name: 'GEOSYNC_AZURE_<REGION>_SAS_TOKEN',
    path: ['regions', '[]', 'storage', 'sastoken'],
    storageType: 'azure',
  },
  {
    name: 'GEOSYNC_REGISTRY_<REGION>_PASSWORD',
    path: ['regions', '[]', 'registry', 'password'],
    lookup: 'registry',
  },
];

const OVERRIDES = ENV_VARIABLES.filter((v) => v.path[1] !== '[]');
const REGION_VARIABLES = ENV_VARIABLES.filter((v) => v.path[1] === '[]');

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
  for (const { name, path } of OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') setIn(merged, path, value);
  }
  const regions = merged.regions;
  if (!Array.isArray(regions)) return merged;
  for (const region of regions) {
    if (!isMapping(region) || typeof region.name !== 'string') continue;
    for (const v of REGION_VARIABLES) {
      const value = env[regionVariable(v.name, region.name)];
      // Credentials only for the storage kind or lookup that has them (a stray variable changes nothing).
      const applies = v.lookup
        ? region.lookup === v.lookup
        : isMapping(region.storage) && region.storage.type === v.storageType;
      if (value && applies) setIn(region, v.path.slice(2), value);
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
