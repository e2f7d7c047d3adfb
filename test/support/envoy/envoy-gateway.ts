/**
 * Envoy Gateway without a cluster: `egctl x translate` turns Gateway API resources (and an
 * EnvoyPatchPolicy) into the xDS configuration Envoy Gateway would serve its Envoys, printed as
 * one Envoy admin config dump per Gateway (envoyproxy/gateway internal/cmd/egctl/translate.go).
 * `bootstrapFromXds` turns that dump into a static bootstrap a real Envoy runs: the listeners,
 * clusters and route configurations it holds, with each EDS cluster's endpoints inlined, each RDS
 * reference replaced by its route configuration, the control-plane (ADS) and Envoy Gateway's own
 * stats and readiness listeners left out, and the client listener moved to loopback.
 */
import { parse } from 'yaml';
import { run } from '../process';
import { toolPath } from '../clients/oci-clients';

type Json = Record<string, unknown>;

/** Runs `egctl x translate --to xds` on Gateway API resources; the config dump of `gateway` (`namespace/name`). */
export async function translateToXds(resources: string, gateway: string): Promise<Json[]> {
  const out = await run(
    toolPath('egctl'),
    [
      'x',
      'translate',
      '--from',
      'gateway-api',
      '--to',
      'xds',
      '--type',
      'all',
      '--output',
      'yaml',
      '-f',
      '-',
    ],
    { timeoutMs: 60_000, input: resources },
  );
  const xds = (parse(out.stdout) as { xds?: Record<string, { configs?: Json[] }> }).xds ?? {};
  const dump = xds[gateway]?.configs;
  if (!dump)
    throw new Error(`egctl translated no configuration for ${gateway}:\n${out.stdout.slice(0, 2000)}`);
  return dump;
}

/**
 * The Envoy Gateway release egctl was built from, as the binary records it (`go version -m`: its
 * main module's version; `egctl version` reports none for a `go install` build).
 */
export async function egctlVersion(): Promise<string> {
  const out = await run('go', ['version', '-m', toolPath('egctl')], { timeoutMs: 30_000 });
  return /^\s*mod\s+github\.com\/envoyproxy\/gateway\s+(\S+)/m.exec(out.stdout)?.[1] ?? 'unknown';
}

function ofType(dump: Json[], type: string): Json {
  const found = dump.find((c) => c['@type'] === `type.googleapis.com/envoy.admin.v3.${type}`);
  if (!found) throw new Error(`the config dump has no ${type}`);
  return found;
}

function withoutType(x: unknown): Json {
  const { '@type': _type, ...rest } = x as Json;
  return rest;
}

/** Envoy Gateway's own listeners: stats and readiness, not the Gateway's. */
const GATEWAY_INTERNAL = /^envoy-gateway-proxy-/;

export function bootstrapFromXds(dump: Json[], opts: { readonly listenerAddress: string }): Json {
  const assignments = new Map<string, Json>();
  for (const e of (ofType(dump, 'EndpointsConfigDump').dynamicEndpointConfigs as Json[] | undefined) ?? []) {
    const cla = withoutType(e.endpointConfig);
    assignments.set(cla.clusterName as string, cla);
  }
  const routes = new Map<string, Json>();
  for (const r of (ofType(dump, 'RoutesConfigDump').dynamicRouteConfigs as Json[] | undefined) ?? []) {
    const rc = withoutType(r.routeConfig);
    routes.set(rc.name as string, rc);
  }
  const clusters = (
    (ofType(dump, 'ClustersConfigDump').dynamicActiveClusters as Json[] | undefined) ?? []
  ).map((c) => {
    const cluster = withoutType(c.cluster);
    if (cluster.type !== 'EDS') return cluster;
    const { edsClusterConfig: _eds, ...rest } = cluster;
    const cla = assignments.get(cluster.name as string);
    if (!cla) throw new Error(`no endpoints for EDS cluster ${String(cluster.name)}`);
    return { ...rest, type: 'STATIC', loadAssignment: cla };
  });
  const listeners = ((ofType(dump, 'ListenersConfigDump').dynamicListeners as Json[] | undefined) ?? [])
    .map((l) => withoutType((l.activeState as Json).listener))
    .filter((l) => !GATEWAY_INTERNAL.test(l.name as string))
    .map((l) => {
      const text = JSON.stringify({
        ...l,
        address: { socketAddress: { address: opts.listenerAddress, portValue: 0 } },
      });
      const listener = JSON.parse(text) as Json;
      inlineRoutes(listener, routes);
      return listener;
    });
  return {
    node: { id: 'envoy-gateway-translated', cluster: 'envoy-gateway' },
    admin: { address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } },
    staticResources: { listeners, clusters },
  };
}

/** Replaces every HTTP connection manager's `rds` by the route configuration it names. */
function inlineRoutes(node: unknown, routes: ReadonlyMap<string, Json>): void {
  if (Array.isArray(node)) {
    for (const x of node) inlineRoutes(x, routes);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Json;
  const rds = obj.rds as { routeConfigName?: string } | undefined;
  if (rds?.routeConfigName !== undefined) {
    const rc = routes.get(rds.routeConfigName);
    if (!rc) throw new Error(`no route configuration ${rds.routeConfigName}`);
    delete obj.rds;
    obj.routeConfig = rc;
  }
  for (const v of Object.values(obj)) inlineRoutes(v, routes);
}
