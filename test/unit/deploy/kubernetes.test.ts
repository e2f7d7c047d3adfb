/**
 * The Kubernetes manifests in deploy/ are checked against the Kubernetes API schemas
 * (kubernetes-models) and against geosync itself: ports, probe paths, environment overrides and
 * the drain period must match what the service really does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { DEFAULTS } from '../../../src/config/defaults';
import { ENV_OVERRIDES } from '../../../src/config/env';

const dir = path.join(__dirname, '../../../deploy/kubernetes');
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() })),
  );

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment as never,
  'v1/Service': Service as never,
  'batch/v1/CronJob': CronJob as never,
  'v1/ConfigMap': ConfigMap as never,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as never,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const find = (kind: string, name?: string): any =>
  docs.find((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name))?.doc;

test.each(docs.map((d) => [`${d.file}: ${d.doc.kind} ${d.doc.metadata?.name}`, d.doc]))(
  '%s is valid against the Kubernetes API schema',
  (_name, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model).toBeDefined();
    expect(() => new (Model as new (d: unknown) => { validate(): void })(doc).validate()).not.toThrow();
  },
);

test('the geosync container matches the service: command, ports, probes, overrides, drain', () => {
  const deployment = find('Deployment');
  const pod = deployment.spec.template.spec;
  const geosync = pod.containers.find((c: { name: string }) => c.name === 'geosync');
  expect(geosync.args).toEqual(['serve', '--config', '/etc/geosync/geosync.yaml']);
  const ports = Object.fromEntries(
    geosync.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
  );
  expect(`127.0.0.1:${ports['ext-proc']}`).toBe(DEFAULTS.listen.grpc);
  expect(`127.0.0.1:${ports['geosync-admin']}`).toBe(DEFAULTS.listen.admin);
  expect(geosync.readinessProbe.httpGet.path).toBe('/readyz');
  expect(geosync.livenessProbe.httpGet.path).toBe('/healthz');
  const known = new Set(ENV_OVERRIDES.map(([name]) => name));
  for (const e of geosync.env) expect(known).toContain(e.name);
  expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(DEFAULTS.drainMs);
});

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

  test('only the replicator reaches the registry port; the other ports stay open', () => {
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
    expect(open.ports.map((p: { port: string }) => p.port).sort()).toEqual(
      named.filter((n: string) => n !== 'registry' && n !== 'ext-proc').sort(),
    );
  });
});
