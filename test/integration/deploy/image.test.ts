/**
 * geosync's container image (deploy/Dockerfile), built here by podman from local stand-ins for its
 * two base images (test/support/images/container-images.ts), and run as the Helm chart runs it: the
 * rendered geosync container's securityContext (user and group 65532, a read-only root filesystem
 * with no writable /tmp, every capability dropped, no privilege gain, the runtime's default seccomp
 * profile), the rendered arguments, and the configuration mounted read-only at /etc/geosync:
 * - the restrictions hold inside the container, and the image has no shell to fall back on;
 * - `check-config` accepts the configuration;
 * - the init container's `envoy-config --output` writes Envoy's bootstrap into an empty directory
 *   (the emptyDir), and the real Envoy accepts it (`--mode validate`);
 * - `serve` turns ready (/readyz 200), and exits 0 on SIGTERM after its drain.
 * It prints the image's size and its start-to-ready time (docs/deployment.md).
 *
 * What a cluster adds is not here: the kubelet's probes, image pulls, the pod's network (the
 * container shares this machine's loopback, on ports of the test's choosing).
 * test/integration/deploy/chart-pod.test.ts runs the whole rendered pod under `podman kube play`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { megabytes, testImages, type TestImages } from '../../support/images/container-images';
import { envoyBinary } from '../../support/envoy/envoy';
import { freePorts } from '../../support/net/ports';
import { podman } from '../../support/images/podman';
import { runCli } from '../../support/clients/geosync-cli';
import { sleep } from '../../support/process';
import { CHART, containers, helmTemplate, type Doc } from './chart';

// A first build (npm ci twice in containers, then tsc) takes minutes; later runs find it cached.
jest.setTimeout(40 * 60_000);

let images: TestImages;
let tmp: string;
let geosync: Doc;
let init: Doc;
const names: string[] = [];
const name = (what: string): string => {
  const n = `geosync-image-test-${process.pid}-${what}`;
  names.push(n);
  return n;
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-image-'));
  fs.chmodSync(tmp, 0o755);
  const docs = await helmTemplate(path.join(CHART, 'ci/sidecar-values.yaml'));
  const find = (n: string) =>
    containers(docs).find((c) => c.where.startsWith('Deployment ') && c.container.name === n)!.container;
  geosync = find('geosync');
  init = find('envoy-bootstrap');
  images = await testImages();
  const g = images.geosync;
  console.log(
    `geosync image ${g.ref}: ${megabytes(g.sizeBytes)} uncompressed (${megabytes(g.ownBytes)} of it deploy/Dockerfile's ` +
      `layers, ${megabytes(g.runtimeBase.sizeBytes)} the Node runtime stand-in); podman build took ` +
      `${(g.buildMs / 1000).toFixed(1)} s this run`,
  );
});
afterAll(async () => {
  for (const n of names)
    await podman(['rm', '--force', '--ignore', n], { timeoutMs: 60_000 }).catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** podman run's flags for a rendered container's securityContext (the chart's restricted one). */
function securityFlags(container: Doc): string[] {
  const sc = container.securityContext;
  expect(sc).toEqual({
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  return [
    `--user=${sc.runAsUser}:${sc.runAsGroup}`,
    // A Kubernetes read-only root has no writable /tmp; podman adds tmpfs mounts unless told not to.
    '--read-only',
    '--read-only-tmpfs=false',
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    // podman's default seccomp profile applies unless disabled: RuntimeDefault.
  ];
}

/** A geosync.yaml for this machine's loopback, as the chart's ConfigMap would carry it. */
function writeConfig(ports: { grpc: number; admin: number; envoyAdmin: number; listener: number }): string {
  const dir = path.join(tmp, 'config');
  fs.mkdirSync(dir, { recursive: true });
  for (const r of ['a', 'b']) fs.mkdirSync(path.join(tmp, `registry-${r}`), { recursive: true });
  const config = {
    region: 'b',
    listen: { grpc: `127.0.0.1:${ports.grpc}`, admin: `127.0.0.1:${ports.admin}` },
    drainMs: 1000,
    regions: ['a', 'b'].map((r, i) => ({
      name: r,
      url: `http://127.0.10.${i + 1}:${ports.listener}`,
      storage: { type: 'filesystem', root: `/srv/registry-${r}` },
    })),
    envoy: {
      listener: { address: '127.0.0.1', port: ports.listener },
      admin: { address: '127.0.0.1', port: ports.envoyAdmin },
      localRegistry: { address: '127.0.0.1', port: ports.listener + 1 },
    },
  };
  fs.writeFileSync(path.join(dir, 'geosync.yaml'), stringify(config));
  return dir;
}

/** The mounts of the geosync container: its configuration, and the regions' storage read-only. */
function mounts(configDir: string): string[] {
  return [
    `--volume=${configDir}:/etc/geosync:ro`,
    `--volume=${path.join(tmp, 'registry-a')}:/srv/registry-a:ro`,
    `--volume=${path.join(tmp, 'registry-b')}:/srv/registry-b:ro`,
  ];
}

test('the image runs as the user the chart checks, with Node as its entry point', async () => {
  const { stdout } = await podman(
    ['image', 'inspect', '--format', '{{json .Config.User}} {{json .Config.Entrypoint}}', images.geosync.ref],
    { timeoutMs: 60_000 },
  );
  expect(stdout.trim()).toBe('"65532:65532" ["/nodejs/bin/node","/app/dist/main.js"]');
});

test("under the chart's securityContext: no capability, no privilege gain, seccomp, nothing writable, no shell", async () => {
  // The image's own Node, as the rendered container runs it, reports what it may do.
  const probe = `
    const fs = require('node:fs');
    const status = Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\\n')
      .map((l) => l.split(':\\t')).filter((p) => p.length === 2));
    const writes = {};
    for (const dir of ['/', '/tmp', '/app', '/etc/geosync']) {
      try { fs.writeFileSync(dir + '/probe', 'x'); writes[dir] = 'written'; } catch (e) { writes[dir] = e.code; }
    }
    console.log(JSON.stringify({ uid: status.Uid, gid: status.Gid, capEff: status.CapEff, capBnd: status.CapBnd,
      noNewPrivs: status.NoNewPrivs, seccomp: status.Seccomp, writes, shell: fs.existsSync('/bin/sh') }));`;
  const configDir = writeConfig({ grpc: 1, admin: 2, envoyAdmin: 3, listener: 4 });
  const { stdout } = await podman(
    [
      'run',
      '--rm',
      `--name=${name('probe')}`,
      '--network=none',
      ...securityFlags(geosync),
      ...mounts(configDir),
      '--entrypoint=/nodejs/bin/node',
      images.geosync.ref,
      '-e',
      probe,
    ],
    { timeoutMs: 120_000 },
  );
  expect(JSON.parse(stdout)).toEqual({
    uid: '65532\t65532\t65532\t65532',
    gid: '65532\t65532\t65532\t65532',
    capEff: '0000000000000000',
    capBnd: '0000000000000000',
    noNewPrivs: '1',
    seccomp: '2',
    writes: { '/': 'EROFS', '/tmp': 'EROFS', '/app': 'EROFS', '/etc/geosync': 'EROFS' },
    shell: false,
  });
});

test('check-config, then envoy-config into an emptyDir (no shell), then serve turns ready and stops cleanly', async () => {
  const [grpc, admin, envoyAdmin, listener] = (await freePorts(5)) as [number, number, number, number];
  const configDir = writeConfig({ grpc, admin, envoyAdmin, listener });
  const security = securityFlags(geosync);

  // check-config: the operator's first step, and what a CI job of theirs would run.
  const checked = await podman(
    [
      'run',
      '--rm',
      `--name=${name('check')}`,
      '--network=none',
      ...security,
      ...mounts(configDir),
      images.geosync.ref,
      'check-config',
      '--config',
      '/etc/geosync/geosync.yaml',
    ],
    { timeoutMs: 120_000 },
  );
  expect(checked.stdout).toContain(
    '/etc/geosync/geosync.yaml: ok (region b; siblings in preference order: a)',
  );

  // The init container as rendered: its arguments, its mounts (the emptyDir is an empty directory
  // that anyone may write, as the kubelet makes it), its securityContext.
  expect(init.args).toEqual([
    'envoy-config',
    '--config',
    '/etc/geosync/geosync.yaml',
    '--output',
    '/etc/envoy/envoy.yaml',
  ]);
  const emptyDir = path.join(tmp, 'envoy-config');
  fs.mkdirSync(emptyDir);
  fs.chmodSync(emptyDir, 0o777);
  const written = await podman(
    [
      'run',
      '--rm',
      `--name=${name('init')}`,
      '--network=none',
      ...securityFlags(init),
      `--volume=${configDir}:/etc/geosync:ro`,
      `--volume=${emptyDir}:/etc/envoy`,
      images.geosync.ref,
      ...init.args,
    ],
    { timeoutMs: 120_000 },
  );
  expect(written.stderr).toContain('wrote the Envoy bootstrap of region b to /etc/envoy/envoy.yaml');
  const bootstrap = path.join(emptyDir, 'envoy.yaml');
  expect(fs.statSync(bootstrap).uid).toBe(65532);
  const envoy = envoyBinary('newest');
  const validated = await runCli(['envoy-config', '--check', bootstrap], { ENVOY_BIN: envoy.path });
  expect([validated.code, validated.stdout]).toEqual([
    0,
    expect.stringContaining(`ok by envoy ${envoy.version}`),
  ]);

  // serve, with the rendered arguments, on this machine's loopback (the ports of the configuration).
  expect(geosync.args).toEqual(['serve', '--config', '/etc/geosync/geosync.yaml']);
  const serve = name('serve');
  const started = Date.now();
  await podman(
    [
      'run',
      '--detach',
      `--name=${serve}`,
      '--network=host',
      ...security,
      ...mounts(configDir),
      images.geosync.ref,
      ...geosync.args,
    ],
    { timeoutMs: 120_000 },
  );
  const readyMs = await untilReady(`http://127.0.0.1:${admin}/readyz`, serve, 120_000, started);
  const health = await fetch(`http://127.0.0.1:${admin}/healthz`);
  expect(health.status).toBe(200);
  console.log(
    `geosync image: start to ready ${(readyMs / 1000).toFixed(1)} s (podman run until /readyz answers 200, ` +
      'one worker per core, filesystem storage)',
  );

  // SIGTERM, as the kubelet sends it: geosync drains (drainMs 1000) and exits 0.
  await podman(['stop', '--time=30', serve], { timeoutMs: 60_000 });
  const { stdout } = await podman(['inspect', '--format', '{{.State.ExitCode}}', serve], {
    timeoutMs: 60_000,
  });
  expect(stdout.trim()).toBe('0');
});

/** ms from `started` until `url` answers 200; fails with the container's log past the deadline. */
async function untilReady(
  url: string,
  container: string,
  timeoutMs: number,
  started: number,
): Promise<number> {
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return Date.now() - started;
    await sleep(100);
  }
  const log = await podman(['logs', container], { timeoutMs: 60_000 }).catch((e: Error) => ({
    stdout: '',
    stderr: e.message,
  }));
  throw new Error(`${url} not 200 within ${timeoutMs} ms:\n${log.stdout}${log.stderr}`);
}
