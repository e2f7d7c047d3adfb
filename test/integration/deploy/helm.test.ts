/**
 * The Helm chart (deploy/helm/geosync), for each install path's values file (ci/*.yaml): `helm
 * lint --strict` passes; every object `helm template` renders is valid against the Kubernetes API
 * schema (kubernetes-models; the ServiceMonitor against the Prometheus Operator's); the rendered
 * geosync.yaml passes geosync's own check; and the pod does what the chart promises:
 *
 * - no pasting: the init container runs `geosync envoy-config --output` on the ConfigMap's
 *   geosync.yaml into the emptyDir Envoy reads, with geosync's own environment. The test runs
 *   that exact command here and `envoy --mode validate` on what it writes (the real binary);
 * - a changed configuration rolls the pods (the checksum annotation changes, nothing else does);
 * - every probe, declared port and Service reaches a socket its container listens on at the pod
 *   IP, read from the configuration each container loads (test/unit/deploy/pod-network.ts);
 * - values geosync would refuse are refused by `helm lint` (values.schema.json embeds geosync's
 *   JSON Schema).
 *
 * What this cannot show: no Kubernetes cluster runs here, so nothing is scheduled, no image is
 * pulled, and the NetworkPolicy and ServiceMonitor are checked for shape, not enforced.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfigText } from '../../../src/config/load';
import { validateWithEnvoy } from '../../../src/envoy/binary';
import { envoyBinary } from '../../support/envoy/envoy';
import { ROOT, runCli } from '../../support/clients/geosync-cli';
import { makeTls } from '../../support/http-fakes';
import { toolPath } from '../../support/clients/oci-clients';
import { run } from '../../support/process';
import { CHART, VALUES_FILES as VALUES, helmTemplate, replicationOn, type Doc } from './chart';
import { listenedInPod, parseHostPort, podProblems, type Listener } from '../../unit/deploy/pod-network';

jest.setTimeout(120_000);

function schemaProblems(docs: Doc[]): string[] {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'test/unit/deploy/validate-schemas.mjs')], {
    input: JSON.stringify(docs),
  });
  return JSON.parse(out.toString()) as string[];
}

/** The optional Secret's value (full-values.yaml turns notifications on). */
const SECRET = `Bearer ${'s'.repeat(32)}`;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-helm-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(VALUES)('install path %s', (file) => {
  const values = path.join(CHART, 'ci', file);
  let docs: Doc[] = [];
  beforeAll(async () => {
    docs = await helmTemplate(values);
  });
  const find = (kind: string): Doc => docs.find((d) => d.kind === kind);
  const pod = (): Doc => find('Deployment').spec.template.spec;
  const container = (name: string): Doc =>
    [...pod().initContainers, ...pod().containers].find((c) => c.name === name);
  const configText = (): string => find('ConfigMap').data['geosync.yaml'];

  test('helm lint --strict passes', async () => {
    const out = await run(toolPath('helm'), ['lint', CHART, '--strict', '--values', values], {
      timeoutMs: 60_000,
    });
    expect(out.stdout).toContain('0 chart(s) failed');
  });

  test('every rendered object is valid against its API schema', () => {
    expect(docs.length).toBeGreaterThan(4);
    const problems = schemaProblems(docs);
    expect(docs.map((d, i) => [`${d.kind} ${d.metadata.name}`, problems[i]])).toEqual(
      docs.map((d) => [`${d.kind} ${d.metadata.name}`, '']),
    );
  });

  test("the rendered geosync.yaml passes geosync's check-config", async () => {
    const config = path.join(tmp, `${file}-geosync.yaml`);
    fs.writeFileSync(config, configText());
    const checked = await runCli(['check-config', '--config', config], {
      GEOSYNC_NOTIFICATIONS_SECRET: SECRET,
    });
    expect([checked.code, checked.stderr]).toEqual([0, '']);
  });

  test("the init container's own command writes a bootstrap the real Envoy accepts, where Envoy reads it", async () => {
    const init = container('envoy-bootstrap');
    const envoy = container('envoy');
    const [, , configPath, , outputPath] = init.args;
    expect(init.args).toEqual(['envoy-config', '--config', configPath, '--output', outputPath]);
    // --config is the ConfigMap's key, --output lies on the emptyDir that Envoy's -c reads.
    const mountOf = (c: Doc, p: string) => c.volumeMounts.find((m: Doc) => p.startsWith(`${m.mountPath}/`));
    expect(pod().volumes.find((v: Doc) => v.name === mountOf(init, configPath).name).configMap).toBeDefined();
    const out = mountOf(init, outputPath);
    expect(pod().volumes.find((v: Doc) => v.name === out.name).emptyDir).toBeDefined();
    expect(envoy.args.slice(0, 2)).toEqual(['-c', outputPath]);
    expect(mountOf(envoy, outputPath).name).toBe(out.name);
    // The same environment as geosync's: the bootstrap is made from the configuration geosync runs.
    expect({ env: init.env, envFrom: init.envFrom }).toEqual({
      env: container('geosync').env,
      envFrom: container('geosync').envFrom,
    });

    // Run it here: the files Envoy reads only where it is deployed (/etc/envoy/tls) become
    // generated ones of the same kind.
    const dir = fs.mkdtempSync(path.join(tmp, 'pod-'));
    const tls = makeTls(path.join(dir, 'tls'), 'registry-b.example.com');
    const text = configText()
      .replaceAll('/etc/envoy/tls/tls.crt', tls.certFile)
      .replaceAll('/etc/envoy/tls/tls.key', tls.keyFile);
    fs.writeFileSync(path.join(dir, 'geosync.yaml'), text);
    const env = Object.fromEntries(init.env.map((e: Doc) => [e.name, e.value]));
    const written = await runCli(
      ['envoy-config', '--config', path.join(dir, 'geosync.yaml'), '--output', path.join(dir, 'envoy.yaml')],
      env,
    );
    expect([written.code, written.stderr]).toEqual([
      0,
      `wrote the Envoy bootstrap of region b to ${dir}/envoy.yaml\n`,
    ]);
    const validated = await validateWithEnvoy(envoyBinary('newest').path, path.join(dir, 'envoy.yaml'));
    expect([validated.code, validated.output]).toEqual([0, expect.stringContaining('OK')]);
  });

  test('a changed configuration changes the checksum annotation, and only it', async () => {
    const changed = await helmTemplate(values, 'config.drainMs=6000');
    const annotation = (ds: Doc[]) =>
      ds.find((d) => d.kind === 'Deployment').spec.template.metadata.annotations['checksum/config'];
    expect(annotation(changed)).not.toBe(annotation(docs));
    expect(annotation(await helmTemplate(values))).toBe(annotation(docs));
  });

  test('every probe, port and Service reaches a socket its container listens on at the pod IP', () => {
    const loaded = loadConfigText(configText(), { GEOSYNC_NOTIFICATIONS_SECRET: SECRET });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const config = loaded.config;
    const tcp = (a: typeof config.listen.grpc, what: string): Listener[] =>
      a.kind === 'tcp' ? [{ host: a.host, port: a.port, tls: false, what }] : [];
    const registry = pod().containers.find((c: Doc) => c.name === 'registry');
    const listener = config.envoy.listener;
    const listens = new Map<string, Listener[]>([
      [
        'envoy',
        [{ host: listener.address, port: listener.port, tls: listener.tls !== undefined, what: 'listener' }],
      ],
      ['geosync', [...tcp(config.listen.grpc, 'listen.grpc'), ...tcp(config.listen.admin, 'listen.admin')]],
      ...(registry
        ? [
            [
              'registry',
              [
                parseHostPort(
                  registry.env.find((e: Doc) => e.name === 'REGISTRY_HTTP_ADDR').value,
                  'http.addr',
                ),
              ],
            ] as [string, Listener[]],
          ]
        : []),
    ]);
    expect(podProblems(pod().containers, listens)).toEqual([]);
    const declared = pod().containers.flatMap((c: Doc) => c.ports ?? []);
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      for (const p of svc.spec.ports) expect(declared.map((d: Doc) => d.name)).toContain(p.targetPort);
    }
    // In the sidecar, Envoy's local registry is the registry container on loopback.
    if (registry)
      expect(
        listenedInPod(listens, {
          host: config.envoy.localRegistry.address,
          port: config.envoy.localRegistry.port,
          tls: false,
          what: 'local registry',
        }),
      ).toBe(true);
    else expect(config.envoy.localRegistry.address).toMatch(/\.svc\.cluster\.local$/);
  });

  test('the replicator writes to the registry itself, never through Envoy, with the shipped script', async () => {
    // A values file with replication off is rendered with it on, so every install path checks it.
    const { mode, replication } = parse(fs.readFileSync(values, 'utf8'));
    const rendered = replication?.enabled
      ? docs
      : await helmTemplate(values, ...replicationOn(mode ?? 'sidecar'));
    const cronJobs = rendered.filter((d) => d.kind === 'CronJob');
    expect(cronJobs.map((j) => j.metadata.name)).toEqual(
      (replication?.enabled ? replication.sources : [{ name: 'a' }]).map(
        (s: Doc) => `region-b-geosync-replicate-from-${s.name}`,
      ),
    );
    const script = rendered.find((d) => d.kind === 'ConfigMap' && d.data['replicate.sh']).data[
      'replicate.sh'
    ];
    expect(script).toBe(fs.readFileSync(path.join(ROOT, 'deploy/replication/replicate.sh'), 'utf8'));
    const envoyService = rendered.find(
      (d) => d.kind === 'Service' && d.spec.ports[0].name === 'registry-api',
    );
    for (const job of cronJobs) {
      const [, dest] = job.spec.jobTemplate.spec.template.spec.containers[0].args;
      expect(dest).not.toContain(envoyService.metadata.name + ':');
      expect(dest).toMatch(/registry-direct:5000$|^registry\.registry\.svc\.cluster\.local:5000$/);
    }
  });
});

test('values geosync refuses are refused by helm lint, naming the key', async () => {
  const bad = path.join(tmp, 'bad-values.yaml');
  fs.writeFileSync(
    bad,
    stringify({
      ...parse(fs.readFileSync(path.join(CHART, 'ci/sidecar-values.yaml'), 'utf8')),
      config: { region: 'b', lookupTimeoutMs: 'soon' },
    }),
  );
  const linted = await run(toolPath('helm'), ['lint', CHART, '--values', bad], { timeoutMs: 60_000 }).catch(
    (err: Error) => err.message,
  );
  expect(String(linted)).toMatch(/lookupTimeoutMs/);
  expect(String(linted)).toMatch(/1 chart\(s\) failed|failed/);
});
