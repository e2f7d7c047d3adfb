/**
 * The chart as a security reviewer reads it, for the values file of every install path
 * (ci/*.yaml), rendered by the real helm, once as it is and once with the replication CronJobs on:
 *
 * - every container of every rendered workload (found by shape, chart.ts: a container added later
 *   is checked too) runs under the Pod Security Standards' "restricted" profile
 *   (https://kubernetes.io/docs/concepts/security/pod-security-standards/): no privilege
 *   escalation, all capabilities dropped, seccomp RuntimeDefault, a non-root user and a read-only
 *   root filesystem; what a container writes lands on a volume of its pod;
 * - the NetworkPolicy admits to geosync's admin port only the peers networkPolicy.adminFrom names
 *   (none by default: the pod itself and its node need no rule), never every source;
 * - no container gets a credential on its command line or as a literal value, and the replicator
 *   reads its credentials as a file from its Secret.
 *
 * What this cannot show: that a kubelet starts these containers as declared (no cluster runs
 * here); replicate.test.ts runs the replicator's script itself with credentials.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import {
  CHART,
  VALUES_FILES,
  containers,
  helmTemplate,
  helmTemplateError,
  replicationOn,
  type ContainerAt,
  type Doc,
} from './chart';
import { restrictedProblems as podSecurityProblems } from '../../unit/deploy/pod-security';

jest.setTimeout(120_000);

/** The chart's defaults under a values file's own (objects merged, anything else replaced). */
function valuesOf(file: string): Doc {
  const merge = (a: Doc, b: Doc): Doc => {
    if (!a || typeof a !== 'object' || Array.isArray(a) || !b || typeof b !== 'object' || Array.isArray(b))
      return b ?? a;
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  const read = (f: string) => parse(fs.readFileSync(f, 'utf8'));
  return merge(read(path.join(CHART, 'values.yaml')), read(path.join(CHART, 'ci', file)));
}

/** What keeps a rendered container from the "restricted" profile ([] when nothing does). */
function restrictedProblems({ pod, container }: ContainerAt, opts: { asRoot?: boolean } = {}): string[] {
  return podSecurityProblems(container, pod, opts);
}

/** The volume mounted above `file` in a container, or undefined. */
function volumeAbove({ pod, container }: ContainerAt, file: string): Doc {
  const mount = (container.volumeMounts ?? []).find(
    (m: Doc) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`),
  );
  return mount && pod.volumes.find((v: Doc) => v.name === mount.name);
}

describe.each(VALUES_FILES)('install path %s', (file) => {
  const valuesFile = path.join(CHART, 'ci', file);
  const values = valuesOf(file);
  const sidecar = values.mode === 'sidecar';
  let docs: Doc[] = [];
  let all: ContainerAt[] = [];
  beforeAll(async () => {
    docs = await helmTemplate(valuesFile);
    const replicating = values.replication.enabled
      ? docs
      : await helmTemplate(valuesFile, ...replicationOn(values.mode));
    const seen = new Set<string>();
    all = [...containers(docs), ...containers(replicating)].filter(
      (c) => !seen.has(c.where) && seen.add(c.where),
    );
  });
  const named = (name: string) => all.filter((c) => c.container.name === name);

  test('every container runs under the "restricted" Pod Security Standard', () => {
    // The check reaches every container the chart has today (and any it gains).
    expect(all.map((c) => c.container.name).sort()).toEqual(
      expect.arrayContaining([
        'envoy',
        'envoy-bootstrap',
        'geosync',
        'replicate',
        ...(sidecar ? ['registry'] : []),
      ]),
    );
    expect(all.map((c) => [c.where, restrictedProblems(c)])).toEqual(all.map((c) => [c.where, []]));
  });

  test('what a container writes lands on a volume, not on its read-only root filesystem', () => {
    const [replicate] = named('replicate');
    const tmpdir = replicate!.container.env.find((e: Doc) => e.name === 'TMPDIR')?.value;
    expect(volumeAbove(replicate!, `${tmpdir}/x`)?.emptyDir).toBeDefined();
    const [init] = named('envoy-bootstrap');
    expect(volumeAbove(init!, init!.container.args.at(-1))?.emptyDir).toBeDefined();
    const [registry] = named('registry');
    if (sidecar) {
      // The registry image's filesystem storage root (its config.yml's rootdirectory).
      expect(volumeAbove(registry!, '/var/lib/registry/docker')?.emptyDir).toBeDefined();
    } else {
      expect(registry).toBeUndefined();
    }
  });

  test("geosync's admin port admits only the peers networkPolicy.adminFrom names, never every source", () => {
    const policy = docs.find((d) => d.kind === 'NetworkPolicy');
    const rules: Doc[] = policy.spec.ingress;
    // A rule without ports opens every port; one without peers admits every source.
    expect(rules.filter((r) => !r.ports)).toEqual([]);
    const toPort = (name: string) => rules.filter((r) => r.ports.some((p: Doc) => p.port === name));
    expect(toPort('geosync-admin').map((r) => r.from ?? 'every source')).toEqual(
      values.networkPolicy.adminFrom.length > 0 ? [values.networkPolicy.adminFrom] : [],
    );
    // Clients reach Envoy from anywhere; only the replicator reaches the registry itself.
    expect(toPort('registry-api').map((r) => r.from)).toEqual([undefined]);
    expect(toPort('registry').map((r) => r.from)).toEqual(
      sidecar
        ? [
            [
              {
                podSelector: {
                  matchLabels: expect.objectContaining({ 'app.kubernetes.io/name': 'geosync-replicator' }),
                },
              },
            ],
          ]
        : [],
    );
  });

  test('no container gets a credential on its command line or as a literal value; the replicator reads a file', () => {
    const flags = /^(--(src-|dest-)?creds|--password|--user|--username|-u|--auth)(=|$)/;
    const secretish = /CREDS|PASSWORD|SECRET|TOKEN|ACCESS_KEY|AUTH$/;
    expect(
      all.flatMap((c) => [
        ...[...(c.container.command ?? []), ...(c.container.args ?? [])]
          .filter((a: string) => flags.test(a))
          .map((a: string) => `${c.where}: argument ${a}`),
        ...(c.container.env ?? [])
          .filter((e: Doc) => secretish.test(e.name) && e.value !== undefined)
          .map((e: Doc) => `${c.where}: ${e.name} given literally`),
      ]),
    ).toEqual([]);
    const [replicate] = named('replicate');
    const secret = values.replication.credentialsSecret;
    const authFile = replicate!.container.env.find((e: Doc) => e.name === 'REGISTRY_AUTH_FILE')?.value;
    expect(volumeAbove(replicate!, authFile)?.secret).toEqual(
      expect.objectContaining({ secretName: secret }),
    );
    expect(replicate!.container.envFrom ?? []).toEqual([]);
  });
});

describe('refused values', () => {
  const sidecar = path.join(CHART, 'ci/sidecar-values.yaml');
  const front = path.join(CHART, 'ci/front-values.yaml');

  test('a ServiceMonitor without Prometheus in networkPolicy.adminFrom', async () => {
    expect(await helmTemplateError(sidecar, 'serviceMonitor.enabled=true')).toMatch(
      /serviceMonitor\.enabled: name Prometheus' pods in networkPolicy\.adminFrom/,
    );
    // Either named, or no NetworkPolicy at all: it renders.
    await helmTemplate(sidecar, 'serviceMonitor.enabled=true', 'networkPolicy.enabled=false');
  });

  test('notifications in mode front without the registry in networkPolicy.adminFrom', async () => {
    expect(await helmTemplateError(front, 'config.notifications.enabled=true')).toMatch(
      /config\.notifications\.enabled in mode front: name the registry's pods in networkPolicy\.adminFrom/,
    );
    // In the sidecar the registry posts over the pod's loopback: no peer needed.
    await helmTemplate(sidecar, 'config.notifications.enabled=true');
  });

  test('an empty peer, which would admit every source', async () => {
    const values = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-helm-')), 'values.yaml');
    fs.writeFileSync(
      values,
      stringify({ ...parse(fs.readFileSync(sidecar, 'utf8')), networkPolicy: { adminFrom: [{}] } }),
    );
    try {
      expect(await helmTemplateError(values)).toMatch(/networkPolicy\/adminFrom\/0.*minProperties/);
    } finally {
      fs.rmSync(path.dirname(values), { recursive: true, force: true });
    }
  });
});

describe('registry.runAsRoot (a storage volume only root may write)', () => {
  test('the registry keeps its image user, and still cannot gain privileges or capabilities', async () => {
    const docs = await helmTemplate(path.join(CHART, 'ci/sidecar-values.yaml'), 'registry.runAsRoot=true');
    const registry = containers(docs).find((c) => c.container.name === 'registry')!;
    expect(registry.container.securityContext.runAsUser).toBeUndefined();
    expect(restrictedProblems(registry, { asRoot: true })).toEqual([]);
    expect(restrictedProblems(registry)).toEqual(['runAsNonRoot is not true', 'root filesystem writable']);
    // The others are unchanged.
    const others = containers(docs).filter((c) => c.container.name !== 'registry');
    expect(others.flatMap((c) => restrictedProblems(c))).toEqual([]);
  });

  test('a volume of the operator mounted at the storage root replaces the emptyDir', async () => {
    const docs = await helmTemplate(
      path.join(CHART, 'ci/sidecar-values.yaml'),
      'registry.extraVolumes[0].name=data',
      'registry.extraVolumes[0].persistentVolumeClaim.claimName=registry-b',
      'registry.extraVolumeMounts[0].name=data',
      'registry.extraVolumeMounts[0].mountPath=/var/lib/registry',
    );
    const registry = containers(docs).find((c) => c.container.name === 'registry')!;
    expect(registry.container.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/registry' }]);
    expect(volumeAbove(registry, '/var/lib/registry/docker')?.persistentVolumeClaim).toEqual({
      claimName: 'registry-b',
    });
    // Writable for the registry's group.
    expect(registry.pod.securityContext.fsGroup).toBe(registry.container.securityContext.runAsGroup);
  });
});
