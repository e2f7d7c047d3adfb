/**
 * Auth holds in every region: htpasswd basic auth on every registry (two regions on the
 * filesystem driver; S3 adds nothing here). The redirected request carries the client's own
 * credentials to the sibling, which authorizes them again; a client without (or with wrong)
 * credentials gets the local 401 and never any content through the proxy.
 *
 * Pushers with Basic auth: a push HEADs the destination manifest first and skips the push on 200,
 * so the manifest HEADs of the user `pushCheckBasicUsers` names (a CI robot) get b's own answer.
 * Envoy tells geosync the user-id alone; no password reaches geosync's logs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_ACCEPT, createOciImage, type OciImage } from '../support/oci/oci-image';
import { clientHome, crane, type Env } from '../support/clients/oci-clients';
import { skopeoPush } from '../support/clients/skopeo';
import { digestsOf, expectLayoutHolds, expectPulledImage } from '../support/oci/layouts';
import { basicAuth, counters, decisions, pullFrom, registryRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { repositoryPrefix, storedContent } from '../support/storage/region-storage';

jest.setTimeout(120_000);

const creds = { username: 'puller', password: 'correct horse battery staple' };
/** The CI robot that pushes: its manifest HEADs are never rescued. */
const robot = { username: 'ci-robot', password: 'robot: s3cret pa55' };
let image: OciImage;
const repository = 'team/private';
const homes: { remove(): void }[] = [];

const { d, a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
  auth: [creds, robot],
  pushCheckBasicUsers: [robot.username],
  // Every decision is logged (ineligible ones at debug), so the logs below hold them all.
  logLevel: 'debug',
});
beforeAll(async () => {
  image = createOciImage(path.join(tmp.make('auth'), 'src'), { tag: 'v1', layerSizes: [5000] });
  await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds });
});
afterAll(() => homes.forEach((h) => h.remove()));

/** A client home whose docker config holds `user`'s credentials for both regions (none: anonymous). */
function homeOf(user?: { username: string; password: string }): Env {
  const home = clientHome();
  homes.push(home);
  const dir = home.env.DOCKER_CONFIG as string;
  fs.mkdirSync(dir, { recursive: true });
  const auth = user ? Buffer.from(`${user.username}:${user.password}`).toString('base64') : undefined;
  const auths = auth ? { [a.host]: { auth }, [b.host]: { auth } } : {};
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return home.env;
}

/** What b's own registry (not its Envoy) answers for the image under `repo:v1`, as `robot`. */
async function inBRegistry(repo: string): Promise<string[]> {
  const ask = async (p: string, method = 'GET') => {
    const res = await fetch(`${b.registry.url}${p}`, {
      method,
      headers: { accept: MANIFEST_ACCEPT, authorization: basicAuth(robot.username, robot.password) },
      signal: AbortSignal.timeout(10_000),
    });
    return `${method} ${p.split('/').pop()} ${res.status} ${res.headers.get('docker-content-digest') ?? ''}`;
  };
  return [
    await ask(`/v2/${repo}/manifests/v1`),
    ...(await Promise.all(
      [image.configDigest, ...image.layerDigests].map((dg) => ask(`/v2/${repo}/blobs/${dg}`, 'HEAD')),
    )),
  ];
}

const IN_B = () => [
  `GET v1 200 ${image.manifestDigest}`,
  ...[image.configDigest, ...image.layerDigests].map((dg) => `HEAD ${dg} 200 ${dg}`),
];

test('without credentials: 401 from B for the manifest and every blob, never content, no redirect', async () => {
  const before = await counters(b);
  const paths = [
    `/v2/${repository}/manifests/v1`,
    `/v2/${repository}/manifests/${image.manifestDigest}`,
    ...[image.configDigest, ...image.layerDigests].map((dg) => `/v2/${repository}/blobs/${dg}`),
  ];
  for (const p of paths) {
    const res = await registryRequest(b, p);
    expect(`${p} ${res.status}`).toBe(`${p} 401`);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="geosync"/);
    expect(res.headers.get('docker-content-digest')).toBeNull();
    expect(res.body.toString()).toContain('UNAUTHORIZED');
  }
  // Wrong password: the same.
  const wrong = await registryRequest(b, `/v2/${repository}/manifests/v1`, {
    headers: { authorization: basicAuth(creds.username, 'wrong') },
  });
  expect(wrong.status).toBe(401);

  // skopeo without credentials fails on the local 401.
  await expect(
    pullFrom(b, { repository, reference: 'v1' }, path.join(tmp.make('anon'), 'out')),
  ).rejects.toThrow(/unauthorized|authentication required|401/i);

  const after = await counters(b);
  expect(after.redirects).toBe(before.redirects);
  expect(after.proxied).toBe(before.proxied);
  // A 401 is not a 404: Envoy never asked geosync.
  expect(after.extProcStreams).toBe(before.extProcStreams);
});

test("with credentials: B's pull is proxied to A, which authorizes the client's own credentials", async () => {
  const before = await counters(b);
  const manifest = await registryRequest(b, `/v2/${repository}/manifests/v1`, {
    headers: { authorization: basicAuth(creds.username, creds.password) },
  });
  expect(manifest.status).toBe(200);
  expect(manifest.headers.get('docker-content-digest')).toBe(image.manifestDigest);

  const out = path.join(tmp.make('authed'), 'out');
  await pullFrom(b, { repository, reference: 'v1' }, out, { destTag: 'v1', creds });
  await expectPulledImage(out, 'v1', image);
  const after = await counters(b);
  expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(3);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});

describe('pushers with Basic auth', () => {
  test('crane copy into b, as the listed user, of an image only a holds leaves the image in b', async () => {
    const repo = 'ci/copied';
    await skopeoPush(image.dir, 'v1', { host: a.host, repository: repo }, { creds });
    expect((await inBRegistry(repo))[0]).toMatch(/^GET v1 404/);
    const pushersBefore = await decisions(b, 'ineligible');
    await crane(['copy', `${a.host}/${repo}:v1`, `${b.host}/${repo}:v1`], homeOf(robot));
    expect(await inBRegistry(repo)).toEqual(IN_B());
    // b's geosync was asked about the robot's 404 (its manifest HEAD) and left it alone.
    expect(await decisions(b, 'ineligible')).toBeGreaterThan(pushersBefore);
    const { repositoryKeys } = await storedContent(d, b, repo, []);
    expect(repositoryKeys).toContain(`${repositoryPrefix(repo)}_manifests/tags/v1/current/link`);
  });

  test('crane pull through b, as another user, of what only a holds is rescued', async () => {
    const repo = 'ci/pulled';
    await skopeoPush(image.dir, 'v1', { host: a.host, repository: repo }, { creds });
    const proxiedBefore = await decisions(b, 'proxied');
    const dir = tmp.make('crane-pull');
    await crane(['pull', '--format=oci', `${b.host}/${repo}:v1`, dir], homeOf(creds));
    // crane's layout names no tag: its one manifest is the image, every blob re-hashed.
    await expectLayoutHolds(dir, undefined, image);
    expect(await decisions(b, 'proxied')).toBeGreaterThan(proxiedBefore);
    // Nothing was written in b.
    expect((await inBRegistry(repo))[0]).toMatch(/^GET v1 404/);
  });

  test("an anonymous crane copy into b is refused by b's registry (401) and writes nothing", async () => {
    const repo = 'ci/anonymous';
    await skopeoPush(image.dir, 'v1', { host: a.host, repository: repo }, { creds });
    // The source is read with credentials: only the write into b is anonymous.
    const env = homeOf();
    const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    fs.writeFileSync(
      path.join(env.DOCKER_CONFIG as string, 'config.json'),
      JSON.stringify({ auths: { [a.host]: { auth } } }),
    );
    await expect(crane(['copy', `${a.host}/${repo}:v1`, `${b.host}/${repo}:v1`], env)).rejects.toThrow(
      /UNAUTHORIZED|401/,
    );
    expect((await inBRegistry(repo))[0]).toMatch(/^GET v1 404/);
  });

  test("no password and no Authorization value reach geosync's logs", () => {
    const logs = [a, b].map((r) => r.geosync()?.output() ?? '').join('\n');
    // The logs hold the decisions, the pushers' among them, and not even the user-id.
    expect(logs).toMatch(/"reason":"pusher"/);
    expect(logs).not.toContain(robot.username);
    for (const user of [creds, robot]) {
      expect(logs).not.toContain(user.password);
      expect(logs).not.toContain(Buffer.from(`${user.username}:${user.password}`).toString('base64'));
    }
    expect(logs).not.toMatch(/basic [a-z0-9+/]{8,}/i);
  });
});
