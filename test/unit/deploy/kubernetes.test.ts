/**
 * The Kubernetes manifests in deploy/ are checked against the Kubernetes API schemas
 * (kubernetes-models) and against geosync itself: ports, probe paths, environment overrides and
 * the drain period must match what the service really does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
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
};

test.each(docs.map((d) => [`${d.file}: ${d.doc.kind} ${d.doc.metadata?.name}`, d.doc]))(
  '%s is valid against the Kubernetes API schema',
  (_name, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model).toBeDefined();
    expect(() => new (Model as new (d: unknown) => { validate(): void })(doc).validate()).not.toThrow();
  },
);

test('the geosync container matches the service: command, ports, probes, overrides, drain', () => {
  const deployment = docs.find((d) => d.doc.kind === 'Deployment')?.doc;
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
