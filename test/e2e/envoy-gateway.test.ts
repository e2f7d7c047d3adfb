/**
 * geosync behind Envoy Gateway: region b's ingress is what Envoy Gateway generates for a Gateway
 * and an HTTPRoute to b's registry, patched by the EnvoyPatchPolicy `geosync envoy-config
 * --envoy-gateway` emits. `egctl x translate` (Envoy Gateway's own translator, pinned in
 * scripts/client-versions) turns the resources into xDS; test/support/envoy/envoy-gateway.ts makes that a
 * static bootstrap, and the real Envoy runs it on loopback in front of b's registry and beside b's
 * geosync. Through it: a pull of an image only a holds succeeds (skopeo), a local hit opens no
 * ext_proc stream, and a client that names a's host gets nothing of a's.
 *
 * What this proves: the patch applies to what Envoy Gateway generates (translate drops a patch
 * that does not apply, silently; the checks below would then fail), and the result behaves as
 * geosync's own bootstrap does. What it cannot: Envoy Gateway's controller in a cluster, its xDS
 * delivery, the Envoy Deployment it manages (where geosync must run as a sidecar,
 * deploy/kubernetes/README.md says how), or Gateway API conformance.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { statValue, startEnvoy, type EnvoyProcess } from '../support/envoy/envoy';
import { bootstrapFromXds, egctlVersion, translateToXds } from '../support/envoy/envoy-gateway';
import { runCli } from '../support/clients/geosync-cli';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';
import { expectPulledImage } from '../support/oci/layouts';
import { rawRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(180_000);

const { a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 'filesystem' });

const NAMESPACE = 'registry';
let gateway: EnvoyProcess;
let url: string;
let versions = '';

/** The Gateway API resources an operator writes for region b, with the policy geosync emits. */
async function resources(): Promise<string> {
  const registry = new URL(b.registry.url);
  const port = Number(registry.port);
  const objects = [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'eg' },
      spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'eg', namespace: NAMESPACE },
      spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 8080 }] },
    },
    // The registry's Service; translate resolves a Service to its ClusterIP (here b's registry).
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'registry', namespace: NAMESPACE },
      spec: { clusterIP: registry.hostname, ports: [{ name: 'http', port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'registry', namespace: NAMESPACE },
      spec: { parentRefs: [{ name: 'eg' }], rules: [{ backendRefs: [{ name: 'registry', port }] }] },
    },
  ];
  const policy = await runCli([
    'envoy-config',
    '--config',
    b.configFile,
    '--envoy-gateway',
    `${NAMESPACE}/eg/http`,
    '--httproute',
    'registry',
  ]);
  if (policy.code !== 0) throw new Error(policy.stderr);
  return `${objects.map((o) => stringify(o)).join('---\n')}---\n${policy.stdout}`;
}

beforeAll(async () => {
  const dir = tmp.make('envoy-gateway');
  const input = await resources();
  fs.writeFileSync(path.join(dir, 'resources.yaml'), input);
  const dump = await translateToXds(input, `${NAMESPACE}/eg`);
  const bootstrap = bootstrapFromXds(dump, { listenerAddress: '127.0.0.1' });
  gateway = await startEnvoy(JSON.stringify(bootstrap, null, 2), { dir, name: 'envoy-gateway' });
  url = gateway.listeners.get(`${NAMESPACE}/eg/http`) ?? '';
  versions = `egctl ${await egctlVersion()}, Envoy ${gateway.binary.version}`;
  console.log(`Envoy Gateway translation by ${versions}`);
});
afterAll(async () => {
  await gateway?.close();
});

const host = () => new URL(url).host;
const cluster = `cluster.httproute/${NAMESPACE}/registry/rule/0`;
const stat = async (name: string | RegExp) => statValue(await gateway.stats(), name);

test('the translation carries every patch: upstream ext_proc, redirect policy, sibling routes, marker removal', async () => {
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const config = await (await fetch(`${gateway.adminUrl}/config_dump`)).text();
  for (const piece of [
    'envoy.filters.http.ext_proc',
    'geosync_ext_proc',
    'internal_redirect_policy',
    'sibling_a_pull',
    'x-geosync-redirect',
  ])
    expect([piece, config.includes(piece)]).toEqual([piece, true]);
});

test(`an image only a holds is pulled through b's Envoy Gateway (skopeo)`, async () => {
  const dir = tmp.make('eg-pull');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1', layerSizes: [3000] });
  await skopeoPush(image.dir, 'v1', { host: a.host, repository: 'eg/only-a' });
  const before = await stat(`${cluster}.upstream_internal_redirect_succeeded_total`);
  await skopeoPull({ host: host(), repository: 'eg/only-a', reference: 'v1' }, path.join(dir, 'out'), {
    destTag: 'v1',
  });
  await expectPulledImage(path.join(dir, 'out'), 'v1', image);
  expect(await stat(`${cluster}.upstream_internal_redirect_succeeded_total`)).toBeGreaterThanOrEqual(
    before + 3,
  );
});

test('a local hit opens no ext_proc stream', async () => {
  const dir = tmp.make('eg-local');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'here', layerSizes: [2000] });
  await skopeoPush(image.dir, 'here', { host: b.host, repository: 'eg/in-b' });
  const streams = new RegExp(`^${cluster.replaceAll('.', '\\.')}\\.(?:.*\\.)?ext_proc\\.streams_started$`);
  const before = await stat(streams);
  await skopeoPull({ host: host(), repository: 'eg/in-b', reference: 'here' }, path.join(dir, 'out'), {
    destTag: 'here',
  });
  await expectPulledImage(path.join(dir, 'out'), 'here', image);
  expect(await stat(streams)).toBe(before);
  // And a 404 does open one: the counter is the right one.
  await rawRequest(`${url}/v2/eg/in-b/manifests/nowhere`);
  expect(await stat(streams)).toBe(before + 1);
});

test("a client that names a's host gets Envoy's 404, never a's content", async () => {
  const dir = tmp.make('eg-outsider');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'only-a', layerSizes: [1000] });
  await skopeoPush(image.dir, 'only-a', { host: a.host, repository: 'eg/outsider' });
  const aHost = new URL(a.crossRegion.url).host;
  const before = await a.envoy.stat('http.registry_ingress.downstream_rq_total');
  for (const attempt of [
    { host: aHost },
    { host: aHost.split(':')[0] as string },
    { host: aHost, headers: { 'x-geosync-redirect': '1' } },
    { host: aHost, headers: { 'x-geosync-redirect': '1' }, method: 'HEAD' },
  ]) {
    const res = await rawRequest(`${url}/v2/eg/outsider/manifests/only-a`, attempt);
    expect({ attempt, status: res.status }).toEqual({ attempt, status: 404 });
    expect(res.headers['docker-content-digest']).toBeUndefined();
  }
  expect(await a.envoy.stat('http.registry_ingress.downstream_rq_total')).toBe(before);
});
