/**
 * The Helm chart (deploy/helm/geosync) as the tests see it: rendered by the real helm binary
 * (.tools/helm, scripts/install-clients.sh), and the containers of whatever the rendered objects
 * run, found by their shape rather than by kind, so that a workload or container added later is
 * checked too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../support/clients/geosync-cli';
import { toolPath } from '../../support/clients/oci-clients';
import { run } from '../../support/process';

export const CHART = path.join(ROOT, 'deploy/helm/geosync');
/** The values file of each install path the chart's CI renders (ci/*.yaml). */
export const VALUES_FILES = fs.readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects are checked by schema
export type Doc = any;

function templateArgs(values: string, set: readonly string[]): string[] {
  return [
    'template',
    'region-b',
    CHART,
    '--namespace',
    'registry',
    '--values',
    values,
    ...set.flatMap((s) => ['--set', s]),
  ];
}

/** `helm template` of the chart with a values file (a path) and `--set` overrides. */
export async function helmTemplate(values: string, ...set: string[]): Promise<Doc[]> {
  const out = await run(toolPath('helm'), templateArgs(values, set), { timeoutMs: 60_000 });
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS())
    .filter((d) => d);
}

/** The error `helm template` fails with (rejects if it renders). */
export async function helmTemplateError(values: string, ...set: string[]): Promise<string> {
  const rendered = await run(toolPath('helm'), templateArgs(values, set), { timeoutMs: 60_000 }).then(
    () => undefined,
    (err: Error) => err.message,
  );
  if (rendered === undefined) throw new Error(`helm template rendered with ${set.join(' ')}`);
  return rendered;
}

/**
 * `--set` overrides that turn the replication CronJobs on for a values file that has them off; in
 * mode front they need the registry's own address.
 */
export function replicationOn(mode: string): string[] {
  return [
    'replication.enabled=true',
    'replication.sources[0].name=a',
    'replication.sources[0].host=registry-a.example.com',
    ...(mode === 'front' ? ['replication.destination=registry.registry.svc.cluster.local:5000'] : []),
  ];
}

export interface PodSpecAt {
  /** `Kind name` of the object that holds it. */
  readonly owner: string;
  readonly spec: Doc;
}

/** Every PodSpec in the objects: anything with a `containers` list, at any depth. */
export function podSpecs(docs: readonly Doc[]): PodSpecAt[] {
  const out: PodSpecAt[] = [];
  const walk = (owner: string, value: Doc): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(owner, v);
    } else if (value && typeof value === 'object') {
      if (Array.isArray(value.containers)) out.push({ owner, spec: value });
      for (const v of Object.values(value)) walk(owner, v);
    }
  };
  for (const d of docs) walk(`${d.kind} ${d.metadata?.name}`, d);
  return out;
}

export interface ContainerAt {
  /** `Kind name: container` */
  readonly where: string;
  readonly pod: Doc;
  readonly container: Doc;
}

/** Every container of every PodSpec: init, regular and ephemeral. */
export function containers(docs: readonly Doc[]): ContainerAt[] {
  return podSpecs(docs).flatMap(({ owner, spec }) =>
    [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])].map(
      (c: Doc) => ({ where: `${owner}: ${c.name}`, pod: spec, container: c }),
    ),
  );
}
