/**
 * Environment variables that override documented keys. This is the only module that reads
 * process.env; everything else receives the merged, validated configuration.
 */
import type { Obj } from './reader';

/** Top-level overrides: variable name → dotted key. */
export const ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['GEOSYNC_REGION', ['region']],
  ['GEOSYNC_LISTEN_GRPC', ['listen', 'grpc']],
  ['GEOSYNC_LISTEN_ADMIN', ['listen', 'admin']],
  ['GEOSYNC_LOOKUP_TIMEOUT_MS', ['lookupTimeoutMs']],
  ['GEOSYNC_DRAIN_MS', ['drainMs']],
  ['GEOSYNC_LOG_LEVEL', ['telemetry', 'logLevel']],
  ['GEOSYNC_OTLP_ENDPOINT', ['telemetry', 'otlpEndpoint']],
];

/** `GEOSYNC_S3_<REGION>_ACCESS_KEY_ID` etc.: keeps secrets out of the YAML (e.g. from a Kubernetes Secret). */
export function regionCredentialVariable(
  region: string,
  field: 'ACCESS_KEY_ID' | 'SECRET_ACCESS_KEY' | 'SESSION_TOKEN',
): string {
  return `GEOSYNC_S3_${region.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${field}`;
}

export type Env = Readonly<Record<string, string | undefined>>;

export function processEnv(): Env {
  return process.env;
}

/** Returns a copy of `raw` with the overrides applied (the input is not modified). */
export function applyEnvOverrides(raw: Obj, env: Env): Obj {
  const merged = structuredClone(raw);
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node: Obj = merged;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Obj;
    }
    node[path[path.length - 1] as string] = value;
  }
  const regions = merged.regions;
  if (Array.isArray(regions)) {
    for (const region of regions) {
      if (typeof region !== 'object' || region === null || typeof region.name !== 'string') continue;
      const storage = region.storage;
      if (typeof storage !== 'object' || storage === null || storage.type !== 's3') continue;
      const id = env[regionCredentialVariable(region.name, 'ACCESS_KEY_ID')];
      const secret = env[regionCredentialVariable(region.name, 'SECRET_ACCESS_KEY')];
      const token = env[regionCredentialVariable(region.name, 'SESSION_TOKEN')];
      if (id) storage.accessKeyId = id;
      if (secret) storage.secretAccessKey = secret;
      if (token) storage.sessionToken = token;
    }
  }
  return merged;
}
