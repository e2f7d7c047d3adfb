/**
 * Turns parsed YAML (after environment overrides) into a frozen GeosyncConfig, or the complete
 * list of problems. Section readers each own one part of the schema.
 */
import { readFreshness } from './freshness';
import { readEnvoyOptions } from '../envoy/options';
import { DEFAULTS, LIMITS } from './defaults';
import type { Env } from './env';
import { readNotifications, readStaleness } from './notifications';
import type { LoadOptions } from './schema';
import { join, Reader, type ConfigProblem, type Obj } from './reader';
import type {
  CacheConfig,
  GeosyncConfig,
  ListenAddress,
  LocateConfig,
  LogLevel,
  RegionConfig,
  StorageConfig,
  TelemetryConfig,
} from './schema';

export type ValidationResult =
  | { readonly ok: true; readonly config: GeosyncConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const TOP_KEYS = [
  'region',
  'listen',
  'lookupTimeoutMs',
  'drainMs',
  'regions',
  'preference',
  'locate',
  'telemetry',
  'envoy',
  'proxyManifestHeadByDigest',
  'freshness',
  'notifications',
  'staleness',
] as const;

/** Region names become Envoy cluster and route names and metric label values. */
const REGION_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * `env` supplies secrets the file names but must not hold (notifications.ts). `secrets: false`
 * (commands that never use them, like `envoy-config`) does not require them to be set.
 */
export function validateConfig(raw: unknown, env: Env = {}, opts: LoadOptions = {}): ValidationResult {
  const r = new Reader();
  const root = r.object(raw, '', { required: true }) ?? {};
  r.noUnknownKeys(root, '', TOP_KEYS);

  const regions = readRegions(r, root);
  const region = r.string(root, 'region', '', { required: true });
  const names = regions.map((x) => x.name);
  // Compare against every declared name, valid or not, so one bad region does not hide this check.
  const declared = (Array.isArray(root.regions) ? root.regions : [])
    .map((x: unknown) => (x && typeof x === 'object' ? (x as Obj).name : undefined))
    .filter((n): n is string => typeof n === 'string');
  if (region !== undefined && declared.length > 0 && !declared.includes(region)) {
    r.problem('region', `"${region}" is not one of regions[].name (${declared.join(', ')})`);
  }

  const listenObj = r.object(root.listen, 'listen') ?? {};
  r.noUnknownKeys(listenObj, 'listen', ['grpc', 'admin']);
  const grpc = readListen(r, listenObj, 'grpc', DEFAULTS.listen.grpc);
  const admin = readListen(r, listenObj, 'admin', DEFAULTS.listen.admin);
  if (grpc && admin && sameTcp(grpc, admin)) r.problem('listen.admin', 'must differ from listen.grpc');

  const lookupTimeoutMs = r.integer(root, 'lookupTimeoutMs', '', {
    default: DEFAULTS.lookupTimeoutMs,
    min: 1,
    max: LIMITS.lookupTimeoutMs,
  });
  const drainMs = r.integer(root, 'drainMs', '', { default: DEFAULTS.drainMs, min: 0, max: 600_000 });
  const preference = readPreference(r, root, names, region);
  const locate = readLocate(r, root);
  const telemetry = readTelemetry(r, root);
  const proxyManifestHeadByDigest = r.boolean(root, 'proxyManifestHeadByDigest', '', { default: true });
  const freshness = readFreshness(r, root);
  const envoy = readEnvoyOptions(r, root.envoy, { lookupTimeoutMs, regions, region });
  const notifications = readNotifications(r, root, env, opts.secrets ?? true);
  const staleness = readStaleness(r, root);

  if (r.problems.length > 0 || region === undefined || grpc === undefined || admin === undefined) {
    return { ok: false, problems: r.problems };
  }
  return {
    ok: true,
    config: deepFreeze({
      region,
      listen: { grpc, admin },
      lookupTimeoutMs,
      drainMs,
      regions,
      preference,
      locate,
      telemetry,
      envoy,
      proxyManifestHeadByDigest,
      freshness,
      notifications,
      staleness,
    }),
  };
}

function readRegions(r: Reader, root: Obj): RegionConfig[] {
  const list = r.array(root.regions, 'regions', { required: true }) ?? [];
  if (Array.isArray(root.regions) && list.length === 0) r.problem('regions', 'must list at least one region');
  const out: RegionConfig[] = [];
  const seenNames = new Map<string, number>();
  const seenUrls = new Map<string, number>();
  list.forEach((item, i) => {
    const path = join('regions', i);
    const obj = r.object(item, path, { required: true });
    if (!obj) return;
    r.noUnknownKeys(obj, path, ['name', 'url', 'storage']);
    const name = r.string(obj, 'name', path, { required: true });
    if (name !== undefined) {
      if (!REGION_NAME.test(name)) {
        r.problem(
          join(path, 'name'),
          `"${name}" must be lower-case letters, digits and '-', at most 32 characters`,
        );
      } else if (seenNames.has(name)) {
        r.problem(
          join(path, 'name'),
          `duplicate region name "${name}" (also regions[${seenNames.get(name)}])`,
        );
      } else seenNames.set(name, i);
    }
    const url = readUrl(r, obj, path);
    if (url !== undefined) {
      if (seenUrls.has(url))
        r.problem(join(path, 'url'), `duplicate url (also regions[${seenUrls.get(url)}])`);
      else seenUrls.set(url, i);
    }
    const storage = readStorage(r, obj.storage, join(path, 'storage'));
    if (name !== undefined && url !== undefined && storage !== undefined) out.push({ name, url, storage });
  });
  return out;
}

function readUrl(r: Reader, obj: Obj, path: string): string | undefined {
  const value = r.string(obj, 'url', path, { required: true });
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    r.problem(join(path, 'url'), `"${value}" is not an absolute URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.problem(join(path, 'url'), `must be http or https, got "${url.protocol.replace(':', '')}"`);
    return undefined;
  }
  if (url.search || url.hash || url.username || url.password) {
    r.problem(join(path, 'url'), 'must not carry a query, fragment or credentials');
    return undefined;
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    // Envoy's internal redirect keeps the registry's /v2/ path; a base path would need a
    // prefix rewrite on the sibling route, which geosync does not generate.
    r.problem(join(path, 'url'), 'must be a scheme and host[:port] only, without a path');
    return undefined;
  }
  return `${url.protocol}//${url.host}`;
}

function readStorage(r: Reader, value: unknown, path: string): StorageConfig | undefined {
  const obj = r.object(value, path, { required: true });
  if (!obj) return undefined;
  const type = r.oneOf(obj, 'type', path, ['s3', 'filesystem'] as const, { required: true });
  if (type === 'filesystem') {
    r.noUnknownKeys(obj, path, ['type', 'root']);
    const root = r.string(obj, 'root', path, { required: true });
    if (root === undefined) return undefined;
    if (!root.startsWith('/')) {
      r.problem(join(path, 'root'), `must be an absolute path, got "${root}"`);
      return undefined;
    }
    return { type, root: root.length > 1 ? root.replace(/\/+$/, '') : root };
  }
  if (type === 's3') {
    r.noUnknownKeys(obj, path, [
      'type',
      'bucket',
      'endpoint',
      'region',
      'forcePathStyle',
      'rootDirectory',
      'accessKeyId',
      'secretAccessKey',
      'sessionToken',
      'requestTimeoutMs',
    ]);
    const bucket = r.string(obj, 'bucket', path, { required: true });
    const endpoint = r.string(obj, 'endpoint', path);
    if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
      r.problem(join(path, 'endpoint'), `must be an http(s) URL with no path, got "${endpoint}"`);
    }
    const region = r.string(obj, 'region', path, { default: DEFAULTS.s3.region }) as string;
    const forcePathStyle = r.boolean(obj, 'forcePathStyle', path, { default: DEFAULTS.s3.forcePathStyle });
    const rootDirectory = (
      r.string(obj, 'rootDirectory', path, { default: DEFAULTS.s3.rootDirectory }) as string
    )
      .split('/')
      .filter(Boolean)
      .join('/');
    const accessKeyId = r.string(obj, 'accessKeyId', path);
    const secretAccessKey = r.string(obj, 'secretAccessKey', path);
    const sessionToken = r.string(obj, 'sessionToken', path);
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      r.problem(
        join(path, accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'),
        'accessKeyId and secretAccessKey go together (leave both out to use the AWS SDK provider chain)',
      );
    }
    const requestTimeoutMs = r.integer(obj, 'requestTimeoutMs', path, {
      default: DEFAULTS.s3.requestTimeoutMs,
      min: 1,
      max: 60_000,
    });
    if (bucket === undefined) return undefined;
    return {
      type,
      bucket,
      ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/$/, '') } : {}),
      region,
      forcePathStyle,
      rootDirectory,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined
        ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
        : {}),
      requestTimeoutMs,
    };
  }
  return undefined;
}

function readListen(r: Reader, obj: Obj, key: string, fallback: string): ListenAddress | undefined {
  const value = r.string(obj, key, 'listen', { default: fallback }) as string | undefined;
  if (value === undefined) return undefined;
  const parsed = parseListen(value);
  if (!parsed) r.problem(join('listen', key), `must be host:port or unix:PATH, got "${value}"`);
  return parsed;
}

export function parseListen(value: string): ListenAddress | undefined {
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    return path.startsWith('/') ? { kind: 'unix', path } : undefined;
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

function sameTcp(a: ListenAddress, b: ListenAddress): boolean {
  if (a.kind === 'unix' && b.kind === 'unix') return a.path === b.path;
  if (a.kind === 'tcp' && b.kind === 'tcp') return a.port !== 0 && a.host === b.host && a.port === b.port;
  return false;
}

function readPreference(r: Reader, root: Obj, names: string[], self: string | undefined): string[] {
  const siblings = names.filter((n) => n !== self);
  const list = r.array(root.preference, 'preference');
  if (!list) return siblings;
  const out: string[] = [];
  list.forEach((v, i) => {
    const p = join('preference', i);
    if (typeof v !== 'string') r.problem(p, 'must be a region name');
    else if (v === self) r.problem(p, `"${v}" is this region; list sibling regions only`);
    else if (!names.includes(v)) r.problem(p, `"${v}" is not one of regions[].name`);
    else if (out.includes(v)) r.problem(p, `"${v}" is listed twice`);
    else out.push(v);
  });
  // Siblings the operator did not rank come last, in `regions` order.
  return [...out, ...siblings.filter((n) => !out.includes(n))];
}

function readLocate(r: Reader, root: Obj): LocateConfig {
  const d = DEFAULTS.locate;
  const obj = r.object(root.locate, 'locate') ?? {};
  r.noUnknownKeys(obj, 'locate', [
    'hedgeMs',
    'probeBlobData',
    'maxConcurrentProbesPerRegion',
    'keepWarmIntervalMs',
    'cache',
    'breaker',
    'healthCheck',
  ]);
  const cacheObj = r.object(obj.cache, 'locate.cache') ?? {};
  r.noUnknownKeys(cacheObj, 'locate.cache', Object.keys(d.cache));
  const cache: CacheConfig = {
    maxEntries: r.integer(cacheObj, 'maxEntries', 'locate.cache', { default: d.cache.maxEntries, min: 0 }),
    maxBytes: r.integer(cacheObj, 'maxBytes', 'locate.cache', { default: d.cache.maxBytes, min: 0 }),
    digestTtlMs: r.integer(cacheObj, 'digestTtlMs', 'locate.cache', { default: d.cache.digestTtlMs, min: 0 }),
    tagTtlMs: r.integer(cacheObj, 'tagTtlMs', 'locate.cache', {
      default: d.cache.tagTtlMs,
      min: 0,
      max: 300_000,
    }),
    negativeTtlMs: r.integer(cacheObj, 'negativeTtlMs', 'locate.cache', {
      default: d.cache.negativeTtlMs,
      min: 0,
      max: LIMITS.negativeTtlMs,
    }),
  };
  const breakerObj = r.object(obj.breaker, 'locate.breaker') ?? {};
  r.noUnknownKeys(breakerObj, 'locate.breaker', Object.keys(d.breaker));
  const hcObj = r.object(obj.healthCheck, 'locate.healthCheck') ?? {};
  r.noUnknownKeys(hcObj, 'locate.healthCheck', Object.keys(d.healthCheck));
  return {
    hedgeMs: r.integer(obj, 'hedgeMs', 'locate', { default: d.hedgeMs, min: 0, max: 1000 }),
    probeBlobData: r.boolean(obj, 'probeBlobData', 'locate', { default: d.probeBlobData }),
    // A lookup takes one slot per key (link and blob data: 2), so fewer than 2 would turn every
    // blob lookup into an overflow; more than the S3 agent's sockets per region (256,
    // src/storage/s3-probe.ts) would queue probes in the agent instead of answering overflow.
    maxConcurrentProbesPerRegion: r.integer(obj, 'maxConcurrentProbesPerRegion', 'locate', {
      default: d.maxConcurrentProbesPerRegion,
      min: 2,
      max: 256,
    }),
    keepWarmIntervalMs: r.integer(obj, 'keepWarmIntervalMs', 'locate', {
      default: d.keepWarmIntervalMs,
      min: 0,
      max: 3_600_000,
    }),
    cache,
    breaker: {
      failureThreshold: r.integer(breakerObj, 'failureThreshold', 'locate.breaker', {
        default: d.breaker.failureThreshold,
        min: 1,
      }),
      coolDownMs: r.integer(breakerObj, 'coolDownMs', 'locate.breaker', {
        default: d.breaker.coolDownMs,
        min: 1,
      }),
    },
    healthCheck: {
      enabled: r.boolean(hcObj, 'enabled', 'locate.healthCheck', { default: d.healthCheck.enabled }),
      intervalMs: r.integer(hcObj, 'intervalMs', 'locate.healthCheck', {
        default: d.healthCheck.intervalMs,
        min: 100,
      }),
      timeoutMs: r.integer(hcObj, 'timeoutMs', 'locate.healthCheck', {
        default: d.healthCheck.timeoutMs,
        min: 1,
      }),
      unhealthyThreshold: r.integer(hcObj, 'unhealthyThreshold', 'locate.healthCheck', {
        default: d.healthCheck.unhealthyThreshold,
        min: 1,
      }),
    },
  };
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readTelemetry(r: Reader, root: Obj): TelemetryConfig {
  const d = DEFAULTS.telemetry;
  const obj = r.object(root.telemetry, 'telemetry') ?? {};
  r.noUnknownKeys(obj, 'telemetry', [
    'serviceName',
    'otlpEndpoint',
    'resourceAttributes',
    'traceRepositoryNames',
    'logLevel',
  ]);
  const otlpEndpoint = r.string(obj, 'otlpEndpoint', 'telemetry');
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^/]+/.test(otlpEndpoint)) {
    r.problem('telemetry.otlpEndpoint', `must be an http(s) URL, got "${otlpEndpoint}"`);
  }
  const attrsObj = r.object(obj.resourceAttributes, 'telemetry.resourceAttributes') ?? {};
  const resourceAttributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsObj)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      resourceAttributes[k] = String(v);
    else r.problem(join('telemetry.resourceAttributes', k), 'must be a string');
  }
  return {
    serviceName: r.string(obj, 'serviceName', 'telemetry', { default: d.serviceName }) as string,
    ...(otlpEndpoint !== undefined ? { otlpEndpoint } : {}),
    resourceAttributes,
    traceRepositoryNames: r.boolean(obj, 'traceRepositoryNames', 'telemetry', {
      default: d.traceRepositoryNames,
    }),
    logLevel:
      r.oneOf(obj, 'logLevel', 'telemetry', LOG_LEVELS, { default: d.logLevel as LogLevel }) ?? 'info',
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
