/**
 * "Envoy alone": the bootstrap `geosync envoy-config` generated for a region, with the filters
 * that involve geosync removed (the match-delegate filter wrapping ext_proc on the
 * `local_registry` cluster, envoy/README.md "Names in the generated bootstrap", and the Lua filter
 * before it that `pushCheckBasicUsers` adds) and nothing else
 * changed but its listener and admin ports. It is what the region would run without geosync, and
 * the baseline every "cost on the untouched path" figure is divided by.
 */
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { RegionDeployment } from '../../support/stacks/deployment';
import { startEnvoy, type EnvoyProcess } from '../../support/envoy/envoy';
import { freePort } from '../../support/net/ports';

const MATCH_DELEGATE = 'envoy.filters.http.match_delegate';
const BASIC_USER_LUA = 'envoy.filters.http.lua';
const PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

interface Bootstrap {
  static_resources: {
    listeners: { address: { socket_address: { address: string; port_value: number } } }[];
    clusters: {
      name: string;
      typed_extension_protocol_options?: Record<string, { http_filters?: { name: string }[] }>;
    }[];
  };
  admin: { address: { socket_address: { port_value: number } } };
}

/** The bootstrap without geosync's filter, listening on `port` with its admin on `adminPort`. */
export function withoutExtProc(bootstrapYaml: string, port: number, adminPort: number): string {
  const doc = parse(bootstrapYaml) as Bootstrap;
  const cluster = doc.static_resources.clusters.find((c) => c.name === 'local_registry');
  const options = cluster?.typed_extension_protocol_options?.[PROTOCOL_OPTIONS];
  const filters = options?.http_filters ?? [];
  const kept = filters.filter((f) => f.name !== MATCH_DELEGATE && f.name !== BASIC_USER_LUA);
  if (!options || filters.filter((f) => f.name === MATCH_DELEGATE).length !== 1) {
    throw new Error(`the generated bootstrap no longer has one ${MATCH_DELEGATE} filter on local_registry`);
  }
  options.http_filters = kept;
  const listener = doc.static_resources.listeners[0];
  if (!listener) throw new Error('the generated bootstrap has no listener');
  listener.address.socket_address.port_value = port;
  doc.admin.address.socket_address.port_value = adminPort;
  return stringify(doc);
}

export interface EnvoyAlone {
  /** `http://ip:port`, on the region's own address. */
  readonly url: string;
  /** `ip:port`, for skopeo. */
  readonly host: string;
  readonly envoy: EnvoyProcess;
}

/** Starts Envoy alone beside a region's Envoy, on the same address, in front of the same registry. */
export async function startEnvoyAlone(region: RegionDeployment, dir: string): Promise<EnvoyAlone> {
  const ip = new URL(region.url).hostname;
  const port = await freePort(ip);
  const bootstrap = withoutExtProc(region.bootstrap, port, await freePort());
  const envoy = await startEnvoy(bootstrap, {
    dir: path.join(dir, `envoy-alone-${region.name}`),
    name: `envoy-alone-${region.name}`,
  });
  return { url: `http://${ip}:${port}`, host: `${ip}:${port}`, envoy };
}
