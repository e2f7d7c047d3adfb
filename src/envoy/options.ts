/**
 * The `envoy:` section of geosync's YAML: everything `geosync envoy-config` needs beyond the
 * regions themselves. Read once by the config validator (src/config/validate.ts) so that a typo
 * is reported with its key path together with every other configuration problem.
 * Every key and its default is documented in envoy/README.md ("Tunables").
 */
import { join, Reader, type Obj } from '../config/reader';
import type { RegionConfig } from '../config/schema';
import {
  CLUSTER_DEFAULTS,
  LOCAL_CLUSTER_DEFAULTS,
  readAbsolutePath,
  readClusterTuning,
  TUNING_KEYS,
  type ClusterTuning,
} from './cluster-options';

export interface SocketOptions {
  readonly address: string;
  readonly port: number;
}

export interface EnvoyOptions {
  readonly listener: SocketOptions & {
    readonly tls?: { readonly certChain: string; readonly privateKey: string };
  };
  readonly admin: SocketOptions;
  /**
   * Route configuration `ignore_port_in_host_matching`: virtual hosts match on the host alone.
   * Chosen over the HCM's strip_any_host_port, which also strips the port from the Host header sent
   * to the registry (distribution builds upload Location URLs from it: pushes on a non-default port
   * would break) and is not applied to the router's lookup of an internal-redirect target.
   */
  readonly ignorePortInHostMatching: boolean;
  readonly localRegistry: SocketOptions & {
    readonly tls: boolean;
    /** SNI and certificate name for an https local registry (default: `address`). */
    readonly sni: string;
    readonly tuning: ClusterTuning;
  };
  readonly extProc: {
    readonly messageTimeoutMs: number;
    readonly connectTimeoutMs: number;
    /** Streams per HTTP/2 connection to geosync before Envoy opens a new one (see clusters.ts). */
    readonly maxStreamsPerConnection: number;
  };
  /** Tuning of every sibling region's cluster, by region name (defaults merged with overrides). */
  readonly siblings: Readonly<Record<string, ClusterTuning>>;
  /** File access log path; '' turns the access log off. */
  readonly accessLogPath: string;
}

export const ENVOY_DEFAULTS = {
  listener: { address: '0.0.0.0', port: 8080 },
  admin: { address: '127.0.0.1', port: 9901 },
  localRegistry: { address: '127.0.0.1', port: 5000, tls: false },
  /** Envoy's ext_proc default message_timeout is 200 ms; it must exceed lookupTimeoutMs. */
  extProc: {
    minMessageTimeoutMs: 200,
    messageTimeoutMarginMs: 50,
    connectTimeoutMs: 250,
    maxStreamsPerConnection: 500,
  },
  accessLogPath: '/dev/stdout',
} as const;

const KEYS = [
  'listener',
  'admin',
  'ignorePortInHostMatching',
  'localRegistry',
  'extProc',
  'siblingDefaults',
  'siblings',
  'accessLogPath',
] as const;

export interface EnvoyOptionsContext {
  readonly lookupTimeoutMs: number;
  readonly regions: readonly RegionConfig[];
  readonly region: string | undefined;
}

/** Reads and validates `envoy:`; problems go to `r` with paths under `envoy.`. */
export function readEnvoyOptions(r: Reader, value: unknown, ctx: EnvoyOptionsContext): EnvoyOptions {
  const path = 'envoy';
  const obj = r.object(value, path) ?? {};
  r.noUnknownKeys(obj, path, KEYS);

  const listenerObj = section(r, obj, path, 'listener', ['address', 'port', 'tls']);
  const tlsObj = r.object(listenerObj.tls, 'envoy.listener.tls');
  if (tlsObj) r.noUnknownKeys(tlsObj, 'envoy.listener.tls', ['certChain', 'privateKey']);
  const listener = {
    ...readSocket(r, listenerObj, 'envoy.listener', ENVOY_DEFAULTS.listener),
    ...(tlsObj
      ? {
          tls: {
            certChain: readAbsolutePath(r, tlsObj, 'envoy.listener.tls', 'certChain'),
            privateKey: readAbsolutePath(r, tlsObj, 'envoy.listener.tls', 'privateKey'),
          },
        }
      : {}),
  };
  const admin = readSocket(r, section(r, obj, path, 'admin', ['address', 'port']), 'envoy.admin', {
    ...ENVOY_DEFAULTS.admin,
  });
  if (admin.port !== 0 && admin.port === listener.port && admin.address === listener.address) {
    r.problem('envoy.admin.port', 'must differ from envoy.listener.port');
  }

  const localObj = section(r, obj, path, 'localRegistry', ['address', 'port', 'tls', 'sni', ...TUNING_KEYS]);
  const local = readSocket(r, localObj, 'envoy.localRegistry', ENVOY_DEFAULTS.localRegistry);
  const localTls = r.boolean(localObj, 'tls', 'envoy.localRegistry', {
    default: ENVOY_DEFAULTS.localRegistry.tls,
  });
  const localRegistry = {
    ...local,
    tls: localTls,
    sni: r.string(localObj, 'sni', 'envoy.localRegistry', { default: local.address }) as string,
    tuning: readClusterTuning(r, localObj, 'envoy.localRegistry', LOCAL_CLUSTER_DEFAULTS),
  };

  const extProcObj = section(r, obj, path, 'extProc', [
    'messageTimeoutMs',
    'connectTimeoutMs',
    'maxStreamsPerConnection',
  ]);
  const d = ENVOY_DEFAULTS.extProc;
  const messageTimeoutMs = r.integer(extProcObj, 'messageTimeoutMs', 'envoy.extProc', {
    default: Math.max(d.minMessageTimeoutMs, ctx.lookupTimeoutMs + d.messageTimeoutMarginMs),
    min: 1,
    max: 60_000,
  });
  // Envoy stops waiting at message_timeout and (failure_mode_allow) passes the 404 on: a lookup
  // allowed to run longer would always lose the race and its answer would be thrown away.
  // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
  if (messageTimeoutMs <= ctx.lookupTimeoutMs) {
    r.problem(
      'envoy.extProc.messageTimeoutMs',
      `must exceed lookupTimeoutMs (${ctx.lookupTimeoutMs}), got ${messageTimeoutMs}`,
    );
  }
  const extProc = {
    messageTimeoutMs,
    connectTimeoutMs: r.integer(extProcObj, 'connectTimeoutMs', 'envoy.extProc', {
      default: d.connectTimeoutMs,
      min: 1,
      max: 60_000,
    }),
    // Below 1000: Node's HTTP/2 server (nghttp2) sends GOAWAY after a burst of ~1000 stream
    // resets on one connection, and Envoy resets every ext_proc stream it closes first.
    maxStreamsPerConnection: r.integer(extProcObj, 'maxStreamsPerConnection', 'envoy.extProc', {
      default: d.maxStreamsPerConnection,
      min: 1,
      max: 900,
    }),
  };

  const defaultsObj = section(r, obj, path, 'siblingDefaults', TUNING_KEYS);
  const siblingBase = readClusterTuning(r, defaultsObj, 'envoy.siblingDefaults', CLUSTER_DEFAULTS);
  const siblings = readSiblings(r, obj, siblingBase, ctx);

  return {
    listener,
    admin,
    ignorePortInHostMatching: readIgnorePortInHostMatching(r, obj, ctx.regions),
    localRegistry,
    extProc,
    siblings,
    accessLogPath: readAccessLogPath(r, obj),
  };
}

function section(r: Reader, obj: Obj, path: string, key: string, known: readonly string[]): Obj {
  const p = join(path, key);
  const out = r.object(obj[key], p) ?? {};
  r.noUnknownKeys(out, p, known);
  return out;
}

function readSocket(r: Reader, obj: Obj, path: string, def: SocketOptions): SocketOptions {
  const address = r.string(obj, 'address', path, { default: def.address }) as string;
  if (!/^[A-Za-z0-9.:-]+$/.test(address)) {
    r.problem(join(path, 'address'), `must be an IP address or host name, got "${address}"`);
  }
  return { address, port: r.integer(obj, 'port', path, { default: def.port, min: 0, max: 65535 }) };
}

/**
 * Default: strip ports unless two regions share a host name (loopback test stacks), where the
 * port is all that tells their virtual hosts apart. Explicit `true` with shared hosts is an error.
 */
function readIgnorePortInHostMatching(r: Reader, obj: Obj, regions: readonly RegionConfig[]): boolean {
  const seen = new Map<string, string>();
  let clash: string | undefined;
  for (const region of regions) {
    const host = new URL(region.url).hostname;
    const other = seen.get(host);
    if (other !== undefined && clash === undefined)
      clash = `regions ${other} and ${region.name} share host ${host}`;
    seen.set(host, region.name);
  }
  const value = r.boolean(obj, 'ignorePortInHostMatching', 'envoy', { default: clash === undefined });
  if (value && clash !== undefined) {
    r.problem(
      'envoy.ignorePortInHostMatching',
      `must be false: ${clash}, so virtual hosts must match host:port`,
    );
  }
  return value;
}

function readSiblings(
  r: Reader,
  obj: Obj,
  base: ClusterTuning,
  ctx: EnvoyOptionsContext,
): Record<string, ClusterTuning> {
  const overrides = r.object(obj.siblings, 'envoy.siblings') ?? {};
  const names = ctx.regions.map((x) => x.name);
  for (const key of Object.keys(overrides)) {
    if (key === ctx.region)
      r.problem(join('envoy.siblings', key), 'is this region; tune it under envoy.localRegistry');
    else if (!names.includes(key)) r.problem(join('envoy.siblings', key), 'is not one of regions[].name');
  }
  const out: Record<string, ClusterTuning> = {};
  for (const name of names) {
    if (name === ctx.region) continue;
    const p = join('envoy.siblings', name);
    const own = r.object(overrides[name], p) ?? {};
    r.noUnknownKeys(own, p, TUNING_KEYS);
    out[name] = readClusterTuning(r, own, p, base);
  }
  return out;
}

function readAccessLogPath(r: Reader, obj: Obj): string {
  const value = obj.accessLogPath;
  if (value === '') return '';
  return readAbsolutePath(r, obj, 'envoy', 'accessLogPath', ENVOY_DEFAULTS.accessLogPath);
}
