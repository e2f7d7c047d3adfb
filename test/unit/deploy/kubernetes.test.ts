/**
 * The Kubernetes manifests in deploy/kubernetes are checked against the Kubernetes API schemas
 * (kubernetes-models) and against what each container really does: the geosync configuration in
 * the manifest's ConfigMap, and the Envoy bootstrap the init container renders from it, say where
 * geosync and Envoy listen, and every probe, declared port and Service must reach one of those
 * sockets from the pod network (pod-network.ts). The Helm chart's pods get the same checks, and
 * the real Envoy's, in test/integration/deploy/helm.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfigText } from '../../../src/config/load';
import { ENV_VARIABLES } from '../../../src/config/env';
import type { GeosyncConfig, ListenAddress } from '../../../src/config/types';
import { pinnedVersions } from '../../support/envoy/envoy';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { renderBootstrap } from '../../../src/envoy/render';
import {
  isLoopback,
  listenedInPod,
  parseHostPort,
  podProblems,
  type Container,
  type Listener,
} from './pod-network';
import { restrictedProblems } from './pod-security';

const dir = path.join(__dirname, '../../../deploy/kubernetes');
const MANIFEST = 'registry-with-geosync.yaml';
/** Where the geosync container reads its configuration; the bootstrap header names it. */
const GEOSYNC_CONFIG = '/etc/geosync/geosync.yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are checked by schema below
type Doc = any;
const docs: { file: string; doc: Doc }[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() })),
  );
const manifest = docs.filter((d) => d.file === MANIFEST).map((d) => d.doc);
const pod = manifest.find((d) => d.kind === 'Deployment').spec.template.spec;
const container = (name: string) => pod.containers.find((c: Container) => c.name === name);

/**
 * The content of `file` as container `c` sees it: a key of a ConfigMap mounted above it, or on an
 * emptyDir, what an init container wrote there with `geosync envoy-config --output` (rendered
 * here by the same code, from the file and environment that init container is given).
 */
function fileInPod(c: Doc, file: string): string {
  const mount = c.volumeMounts?.find((m: Doc) => file.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${c.name}: no volume is mounted above ${file}`);
  const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
  if (volume?.emptyDir) return renderedByInit(mount.name, path.relative(mount.mountPath, file));
  const cm = manifest.find((d) => d.kind === 'ConfigMap' && d.metadata.name === volume?.configMap?.name);
  const text = cm?.data?.[path.relative(mount.mountPath, file)];
  if (typeof text !== 'string') throw new Error(`${c.name}: ${file} is in no ConfigMap of ${MANIFEST}`);
  return text;
}

/** The bootstrap an init container writes to `relative` on volume `volumeName`. */
function renderedByInit(volumeName: string, relative: string): string {
  for (const init of pod.initContainers ?? []) {
    const mount = init.volumeMounts?.find((m: Doc) => m.name === volumeName);
    if (!mount || init.args?.[0] !== 'envoy-config') continue;
    if (argAfter(init, '--output') !== path.join(mount.mountPath, relative)) continue;
    const source = argAfter(init, '--config');
    const env = Object.fromEntries((init.env ?? []).map((e: Doc) => [e.name, e.value]));
    const loaded = loadConfigText(fileInPod(init, source), env, { secrets: false });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    return renderBootstrap(buildBootstrap(loaded.config), 'yaml', { region: loaded.config.region, source });
  }
  throw new Error(`no init container writes ${relative} on volume ${volumeName}`);
}

function argAfter(c: Doc, flag: string): string {
  const i = c.args.indexOf(flag);
  if (i < 0) throw new Error(`${c.name}: no ${flag} argument`);
  return c.args[i + 1];
}

function geosyncConfig(): GeosyncConfig {
  const c = container('geosync');
  const env = Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e.value]));
  const loaded = loadConfigText(fileInPod(c, argAfter(c, '--config')), env);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

function tcp(address: ListenAddress, what: string): Listener[] {
  return address.kind === 'tcp' ? [{ host: address.host, port: address.port, tls: false, what }] : [];
}

function socketAddress(sa: Doc, what: string, tls = false): Listener {
  return { host: sa.address, port: sa.port_value, tls, what };
}

/** What each container of the pod listens on, read from the configuration it really loads. */
function podListeners(): Map<string, Listener[]> {
  const config = geosyncConfig();
  const bootstrap = parse(fileInPod(container('envoy'), argAfter(container('envoy'), '-c')));
  const registryEnv = container('registry').env?.find((e: Doc) => e.name === 'REGISTRY_HTTP_ADDR');
  return new Map([
    // distribution's http.addr; the registry image's own config.yml sets ":5000".
    ['registry', [parseHostPort(registryEnv?.value ?? ':5000', 'http.addr')]],
    [
      'envoy',
      [
        ...bootstrap.static_resources.listeners.map((l: Doc) =>
          socketAddress(
            l.address.socket_address,
            `listener ${l.name}`,
            l.filter_chains.some((fc: Doc) => fc.transport_socket),
          ),
        ),
        socketAddress(bootstrap.admin.address.socket_address, 'admin'),
      ],
    ],
    ['geosync', [...tcp(config.listen.grpc, 'listen.grpc'), ...tcp(config.listen.admin, 'listen.admin')]],
  ]);
}

/** The Kubernetes API schema problem of each document ('' when valid), from validate-schemas.mjs. */
let schemaProblems: string[] = [];
beforeAll(() => {
  // kubernetes-models is an ES module only; this suite is CommonJS: validate in a child Node.
  const out = execFileSync(process.execPath, [path.join(__dirname, 'validate-schemas.mjs')], {
    input: JSON.stringify(docs.map((d) => d.doc)),
  });
  schemaProblems = JSON.parse(out.toString()) as string[];
});

test.each(docs.map((d, i) => [`${d.file}: ${d.doc.kind} ${d.doc.metadata?.name}`, i]))(
  '%s is valid against the Kubernetes API schema',
  (_name, i) => {
    expect(schemaProblems).toHaveLength(docs.length);
    expect(schemaProblems[i]).toBe('');
  },
);

test('every probe and declared port reaches a socket its container listens on at the pod IP', () => {
  expect(podProblems(pod.containers, podListeners())).toEqual([]);
});

test("every Service's targetPort is a port that a container of the selected pod declares", () => {
  const labels = manifest.find((d) => d.kind === 'Deployment').spec.template.metadata.labels;
  const ports = pod.containers.flatMap((c: Doc) => c.ports ?? []);
  for (const svc of manifest.filter((d) => d.kind === 'Service')) {
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k]).toBe(v);
    for (const p of svc.spec.ports) {
      const target = p.targetPort ?? p.port;
      expect(ports.some((cp: Doc) => cp.name === target || cp.containerPort === target)).toBe(true);
    }
  }
});

test("Envoy's clusters on loopback reach a container of the pod (the registry, geosync)", () => {
  const listens = podListeners();
  const bootstrap = parse(fileInPod(container('envoy'), '/etc/envoy/envoy.yaml'));
  const endpoints: Listener[] = bootstrap.static_resources.clusters.flatMap((cl: Doc) =>
    cl.load_assignment.endpoints.flatMap((e: Doc) =>
      e.lb_endpoints.map((lb: Doc) => socketAddress(lb.endpoint.address.socket_address, cl.name)),
    ),
  );
  const local = endpoints.filter((e) => isLoopback(e.host));
  expect(local.map((e) => e.what).sort()).toEqual([
    'geosync_ext_proc',
    'local_registry',
    'local_registry_direct',
  ]);
  for (const e of local) expect([e.what, listenedInPod(listens, e)]).toEqual([e.what, true]);
});

test("Envoy's bootstrap is rendered in the pod from geosync's own file and environment; the image is the release the tests run", () => {
  expect(container('envoy').image).toBe(`envoyproxy/envoy:distroless-v${pinnedVersions().newest}`);
  const init = pod.initContainers.find((c: Doc) => c.name === 'envoy-bootstrap');
  const geosync = container('geosync');
  // The file geosync serves, and the environment it runs with: the bootstrap cannot drift from them.
  expect(argAfter(init, '--config')).toBe(argAfter(geosync, '--config'));
  expect(fileInPod(init, argAfter(init, '--config'))).toBe(fileInPod(geosync, argAfter(geosync, '--config')));
  expect({ env: init.env, envFrom: init.envFrom }).toEqual({ env: geosync.env, envFrom: geosync.envFrom });
  expect(argAfter(container('envoy'), '-c')).toBe(argAfter(init, '--output'));
  // No bootstrap is pasted into the manifest.
  expect(
    manifest.some((d) => d.kind === 'ConfigMap' && JSON.stringify(d.data).includes('static_resources')),
  ).toBe(false);
});

test('the geosync container matches the service: command, probes, overrides, drain', () => {
  const geosync = container('geosync');
  expect(argAfter(geosync, '--config')).toBe(GEOSYNC_CONFIG);
  expect(geosync.args[0]).toBe('serve');
  expect(geosync.readinessProbe.httpGet.path).toBe('/readyz');
  expect(geosync.livenessProbe.httpGet.path).toBe('/healthz');
  const known = new Set(ENV_VARIABLES.map((v) => v.name));
  for (const e of geosync.env ?? []) expect(known).toContain(e.name);
  expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(geosyncConfig().drainMs);
});

test('every container, the replicator\'s too, runs under the "restricted" Pod Security Standard', () => {
  const pods = docs
    .map((d) => d.doc)
    .flatMap((d) => [d.spec?.template?.spec, d.spec?.jobTemplate?.spec?.template?.spec])
    .filter((p) => p?.containers);
  const all = pods.flatMap((p: Doc) =>
    [...(p.initContainers ?? []), ...p.containers].map((c: Doc) => ({ c, p })),
  );
  expect(all.map(({ c }) => c.name).sort()).toEqual([
    'envoy',
    'envoy-bootstrap',
    'geosync',
    'registry',
    'replicate',
  ]);
  expect(all.map(({ c, p }) => [c.name, restrictedProblems(c, p)])).toEqual(all.map(({ c }) => [c.name, []]));
});

test('a stopping pod drains Envoy before SIGTERM, and the others stay up as long', () => {
  const envoy = container('envoy');
  const wait = envoy.lifecycle.preStop.sleep.seconds;
  expect(argAfter(envoy, '--drain-strategy')).toBe('immediate');
  expect(wait).toBeGreaterThan(Number(argAfter(envoy, '--drain-time-s')));
  expect(container('registry').lifecycle.preStop.sleep.seconds).toBe(wait);
  const admin = geosyncConfig().envoy.admin;
  const [node, flag, script] = container('geosync').lifecycle.preStop.exec.command;
  expect([node, flag]).toEqual(['/nodejs/bin/node', '-e']);
  expect(script).toContain(`const end = Date.now() + ${wait} * 1000;`);
  expect(script).toContain(`fetch('http://${admin.address}:${admin.port}/drain_listeners?graceful'`);
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(wait + geosyncConfig().drainMs / 1000);
});

const find = (kind: string, name?: string): Doc =>
  docs.find((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name))?.doc;

describe('replication.yaml: the reference replicator', () => {
  const registryPod = find('Deployment').spec.template.spec;
  const registry = registryPod.containers.find((c: { name: string }) => c.name === 'registry');
  const cronJob = find('CronJob');
  const jobPod = cronJob.spec.jobTemplate.spec.template;
  const replicate = jobPod.spec.containers[0];

  test('runs deploy/replication/replicate.sh, byte for byte', () => {
    const shipped = readFileSync(path.join(__dirname, '../../../deploy/replication/replicate.sh'), 'utf8');
    expect(find('ConfigMap', 'geosync-replicate').data['replicate.sh']).toBe(shipped);
    const volume = jobPod.spec.volumes.find((v: { name: string }) => v.name === 'scripts');
    expect(volume.configMap.name).toBe('geosync-replicate');
    const mount = replicate.volumeMounts.find((m: { name: string }) => m.name === 'scripts');
    expect(replicate.command).toEqual(['/bin/bash', `${mount.mountPath}/replicate.sh`]);
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
  });

  test('writes to the registry itself, never through Envoy', () => {
    const direct = find('Service', 'registry-direct');
    const [, dest] = replicate.args;
    const port = direct.spec.ports[0];
    expect(dest).toBe(`registry-direct:${port.port}`);
    const registryPort = registry.ports.find((p: { name: string }) => p.name === port.targetPort);
    expect(registryPort.containerPort).toBe(5000);
    // The registry listens where the Service reaches it, not on the pod's loopback only.
    const addr = registry.env.find((e: { name: string }) => e.name === 'REGISTRY_HTTP_ADDR').value;
    expect(addr).toBe(`0.0.0.0:${registryPort.containerPort}`);
    // The replicator's pods are no registry pods: the registry's Services do not select them.
    const registryLabels = find('Deployment').spec.selector.matchLabels;
    for (const [k, v] of Object.entries(registryLabels)) expect(jobPod.metadata.labels[k]).not.toBe(v);
  });

  test("only the replicator reaches the registry port, nobody else geosync's admin port; Envoy's is open", () => {
    const policy = find('NetworkPolicy');
    expect(policy.spec.podSelector.matchLabels).toEqual(find('Deployment').spec.selector.matchLabels);
    const [onlyReplicator, open] = policy.spec.ingress;
    expect(onlyReplicator.from[0].podSelector.matchLabels).toEqual(jobPod.metadata.labels);
    expect(onlyReplicator.ports).toEqual([{ port: 'registry' }]);
    const named = registryPod.containers.flatMap((c: { ports?: { name: string }[] }) =>
      (c.ports ?? []).map((p) => p.name),
    );
    expect(open.from).toBeUndefined();
    // ext-proc is bound to the pod's loopback (listen.grpc default): no network reaches it anyway.
    // The admin port (/metrics, /staleness) admits only the pod itself and its node (the probes),
    // which a NetworkPolicy never blocks.
    expect(policy.spec.ingress).toHaveLength(2);
    expect(open.ports.map((p: { port: string }) => p.port).sort()).toEqual(
      named.filter((n: string) => !['registry', 'ext-proc', 'geosync-admin'].includes(n)).sort(),
    );
    expect(named).toContain('geosync-admin');
  });
});
