/**
 * The registry container of the chart's sidecar runs as a non-root user with a read-only root
 * filesystem, no capabilities and no way to gain privileges (templates/deployment.yaml, with
 * registry.runAsRoot false, the default). That holds for distribution because it writes only to
 * its storage, which this file shows by running it so: the registry (Debian's distribution 2.8.2,
 * the release of the chart's default image registry:2.8.2) starts in a mount namespace of its own
 * whose root is remounted read-only, with at most its storage directory writable (what the chart's
 * emptyDir at /var/lib/registry, or a volume made writable by the pod's fsGroup, gives it), as the
 * user and group of the rendered securityContext, every capability dropped and no_new_privs set
 * (util-linux setpriv). A skopeo push and pull through it work on the filesystem driver and on S3
 * (Swift), where nothing at all is writable; a storage root outside the writable directory fails
 * the push, so the read-only root is really there.
 *
 * What differs from a pod: the configuration is a file of the test rather than the image's
 * config.yml and REGISTRY_* variables; /proc and /dev/shm are the machine's. Needs root (unshare,
 * mount), as the machines that run the suite are.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOciImage } from '../../support/oci/oci-image';
import { freePort } from '../../support/net/ports';
import { spawnManaged, waitForHttp, type ManagedProcess } from '../../support/process';
import { skopeoInspectRaw, skopeoPull, skopeoPush } from '../../support/clients/skopeo';
import { testSwift } from '../../support/storage/shared-swift';
import type { SwiftS3 } from '../../support/storage/swift';
import { CHART, containers, helmTemplate, type Doc } from './chart';

jest.setTimeout(120_000);

let tmp: string;
let securityContext: Doc;
let fsGroup: number;
let swift: SwiftS3 | undefined;
const running: ManagedProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-registry-restricted-'));
  // The registry's user must reach its configuration and storage below this directory.
  fs.chmodSync(tmp, 0o755);
  const docs = await helmTemplate(path.join(CHART, 'ci/sidecar-values.yaml'));
  const registry = containers(docs).find((c) => c.container.name === 'registry')!;
  securityContext = registry.container.securityContext;
  fsGroup = registry.pod.securityContext.fsGroup;
});
afterAll(async () => {
  for (const p of running) await p.stop();
  await swift?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Starts the registry on `storageYaml` as the rendered securityContext says, with only `writable`
 * (if given) writable; resolves with its address once /v2/ answers.
 */
async function startRestricted(
  name: string,
  storageYaml: string,
  writable?: string,
): Promise<{ host: string; logFile: string }> {
  expect(securityContext).toMatchObject({
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  });
  const { runAsUser: uid, runAsGroup: gid } = securityContext;
  const port = await freePort();
  const config = path.join(tmp, `${name}.yml`);
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn, accesslog: {disabled: true}}',
      'storage:',
      storageYaml,
      '  cache: {blobdescriptor: inmemory}',
      '  redirect: {disable: true}',
      `http: {addr: "127.0.0.1:${port}", secret: geosync-test}`,
    ].join('\n'),
    { mode: 0o644 },
  );
  const mounts = writable ? `mount --bind "${writable}" "${writable}" && ` : '';
  const proc = spawnManaged(
    name,
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      `${mounts}mount -o remount,bind,ro / && exec setpriv --reuid ${uid} --regid ${gid} --clear-groups ` +
        `--inh-caps=-all --bounding-set=-all --no-new-privs docker-registry serve "${config}"`,
    ],
    // distribution 2.8.2 panics at start with the s3 driver when AWS_CA_BUNDLE is set.
    { logDir: tmp, env: { ...process.env, AWS_CA_BUNDLE: undefined } },
  );
  running.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/v2/`, { timeoutMs: 20_000, proc, ready: (s) => s === 200 });
  // The process that serves (unshare, sh and setpriv each exec the next) is as declared.
  const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const field = (f: string) =>
    (new RegExp(`^${f}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '(none)').split(/\s+/).filter(Boolean);
  expect({
    uid: field('Uid'),
    gid: field('Gid'),
    groups: field('Groups'),
    capEff: field('CapEff'),
    capBnd: field('CapBnd'),
    noNewPrivs: field('NoNewPrivs'),
  }).toEqual({
    uid: Array(4).fill(String(uid)),
    gid: Array(4).fill(String(gid)),
    groups: [],
    capEff: ['0000000000000000'],
    capBnd: ['0000000000000000'],
    noNewPrivs: ['1'],
  });
  return { host: url.slice('http://'.length), logFile: proc.logFile };
}

/** Pushes an image, pulls it back, and reads its manifest as the registry serves it. */
async function pushAndPull(host: string, name: string): Promise<void> {
  const image = createOciImage(path.join(tmp, `${name}-image`), { tag: 'v1', layerSizes: [4096, 20_000] });
  await skopeoPush(image.dir, 'v1', { host, repository: 'team/app' });
  await skopeoPull(
    { host, repository: 'team/app', reference: image.manifestDigest },
    path.join(tmp, `${name}-pulled`),
  );
  expect(
    JSON.parse(await skopeoInspectRaw({ host, repository: 'team/app', reference: 'v1' })).layers,
  ).toHaveLength(2);
}

/** A storage directory as the pod gives it: the emptyDir or volume, group-writable for fsGroup. */
function volume(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.chownSync(dir, 0, fsGroup);
  fs.chmodSync(dir, 0o2775);
  return dir;
}

test('on the filesystem driver, writing only to its storage volume', async () => {
  const storage = volume('fs-storage');
  const { host } = await startRestricted(
    'registry-fs',
    `  filesystem: {rootdirectory: "${storage}"}`,
    storage,
  );
  await pushAndPull(host, 'fs');
  expect(fs.readdirSync(path.join(storage, 'docker/registry/v2'))).toEqual(['blobs', 'repositories']);
});

test('with a storage root outside its volume, the read-only root filesystem refuses the push', async () => {
  const elsewhere = volume('not-mounted');
  const { host, logFile } = await startRestricted(
    'registry-ro',
    `  filesystem: {rootdirectory: "${elsewhere}"}`,
  );
  await expect(pushAndPull(host, 'ro')).rejects.toThrow(/skopeo/);
  expect(fs.readFileSync(logFile, 'utf8')).toMatch(/read-only file system/);
  expect(fs.readdirSync(elsewhere)).toEqual([]);
});

test('on S3 (Swift), with nothing writable at all', async () => {
  swift = await testSwift();
  await swift.createBucket('registry-b');
  const s3 = {
    accesskey: swift.accessKeyId,
    secretkey: swift.secretAccessKey,
    region: swift.region,
    regionendpoint: swift.endpoint,
    bucket: 'registry-b',
    secure: false,
    v4auth: true,
    rootdirectory: '/',
  };
  const { host } = await startRestricted('registry-s3', `  s3: ${JSON.stringify(s3)}`);
  await pushAndPull(host, 's3');
});
