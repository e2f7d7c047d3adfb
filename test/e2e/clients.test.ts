/**
 * Real OCI clients against two regions with token authentication (a registry token server, as
 * Harbor, GitLab or Docker Hub run): images that only region a holds, pulled through b's Envoy,
 * and copied (pushed) into b. The rule this pins (README, "Pushes through geosync"):
 *
 * - a pull through b of what only a holds works with every client (containerd resolves a tag
 *   with HEAD manifests/<tag> and a digest with HEAD manifests/<digest>: both are rescued);
 * - a push that exits 0 leaves the image in the region it was pushed to: a client that holds a
 *   token with push access to the repository sees only what this region holds, so its "does the
 *   destination have it already?" checks (crane and regctl HEAD the tag, oras and containerd's
 *   pusher HEAD each manifest by digest) are answered by b alone;
 * - every copy that works without geosync works with it, and so does `oras attach` through b to
 *   an image whose first signature only a holds.
 *
 * b reaches a's Envoy over HTTP/2 (`protocol: http2`), so every client's rescued pull crosses an
 * HTTP/2 hop between the Envoys.
 *
 * What this cannot show: registries whose tokens are not JWTs (opaque OAuth2 tokens), or that use
 * no auth, carry no push intent, and keep today's behaviour (README says what that is); Basic auth
 * carries it for the users `pushCheckBasicUsers` names (auth.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegionDeployment } from '../support/stacks/deployment';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import {
  clientHome,
  containerdClient,
  COPY_CLIENTS,
  copyImage,
  crane,
  oras,
  regctl,
  type Env,
} from '../support/clients/oci-clients';
import { skopeoPush } from '../support/clients/skopeo';
import { startTokenServer, type TokenServer } from '../support/registries/token-server';
import { expectLayoutHolds } from '../support/oci/layouts';
import { decisions } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { blobDataKey, repositoryPrefix, storedContent } from '../support/storage/region-storage';

jest.setTimeout(180_000);

let tokens: TokenServer;
let home: { env: Env; remove(): void };
let image: OciImage;

// Before the deployment, which fronts its registries with this token server.
beforeAll(async () => {
  tokens = await startTokenServer();
});
const { d, a, b, tmp } = useDeployment(() => ({
  regions: ['a', 'b'],
  storage: 'filesystem',
  tokenAuth: tokens,
  // Every client's rescued pulls cross to a's Envoy over prior-knowledge HTTP/2 (the other
  // suites keep the default, HTTP/1.1 on these cleartext links).
  siblingProtocol: 'http2',
}));
beforeAll(() => {
  home = clientHome();
  image = createOciImage(path.join(tmp.make('clients'), 'src'), { tag: 'v1', layerSizes: [3000, 7000] });
});
afterAll(async () => {
  await tokens?.stop();
  home?.remove();
});

/** Pushes the test image to region a only (skopeo, through a's Envoy). */
async function onlyInA(repository: string): Promise<void> {
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
}

/**
 * What b's own registry holds of the image under `repository:v1`: the tag, the manifest, and how
 * many of its blobs (config and layers) the repository links to (blob data itself is shared by
 * every repository of a registry, so the links are what say this repository holds them).
 */
async function bHolds(repository: string): Promise<{ tag: boolean; manifest: boolean; blobs: number }> {
  const { repositoryKeys } = await storedContent(d, b, repository, []);
  const prefix = repositoryPrefix(repository);
  const link = (digest: string) => `${prefix}_layers/sha256/${digest.slice('sha256:'.length)}/link`;
  return {
    tag: repositoryKeys.includes(`${prefix}_manifests/tags/v1/current/link`),
    manifest: repositoryKeys.includes(
      `${prefix}_manifests/revisions/sha256/${image.manifestDigest.slice('sha256:'.length)}/link`,
    ),
    blobs: [image.configDigest, ...image.layerDigests].filter((dg) => repositoryKeys.includes(link(dg)))
      .length,
  };
}

const ALL = { tag: true, manifest: true, blobs: 3 };
const NOTHING = { tag: false, manifest: false, blobs: 0 };

describe('a copy into b of an image only a holds leaves the image in b', () => {
  test.each(COPY_CLIENTS)('%s', async (client) => {
    const repository = `copy/${client}`;
    await onlyInA(repository);
    expect(await bHolds(repository)).toEqual(NOTHING);
    await copyImage(client, `${a.host}/${repository}:v1`, `${b.host}/${repository}:v1`, home.env);
    expect(await bHolds(repository)).toEqual(ALL);
  });
});

describe('a pull through b of an image only a holds is rescued', () => {
  test('containerd resolves the tag and the digest and fetches every blob', async () => {
    const repository = 'pull/containerd';
    await onlyInA(repository);
    const proxiedBefore = await decisions(b, 'proxied');
    const byTag = await containerdClient(['pull', `${b.host}/${repository}:v1`], home.env);
    expect(byTag.stdout).toContain(image.manifestDigest);
    const byDigest = await containerdClient(
      ['pull', `${b.host}/${repository}@${image.manifestDigest}`],
      home.env,
    );
    expect(byDigest.stdout).toContain(image.manifestDigest);
    expect(await decisions(b, 'proxied')).toBeGreaterThan(proxiedBefore);
    expect(await b.envoy.stat('cluster.sibling_a.upstream_cx_http2_total')).toBeGreaterThanOrEqual(1);
    expect(await b.envoy.stat('cluster.sibling_a.upstream_cx_http1_total')).toBe(0);
    // Nothing was written in b.
    expect(await bHolds(repository)).toEqual(NOTHING);
  });

  test('crane, regctl and oras pull it into a layout', async () => {
    for (const client of ['crane', 'regctl', 'oras'] as const) {
      const repository = `pull/${client}`;
      await onlyInA(repository);
      const dir = tmp.make(`pull-${client}`);
      const src = `${b.host}/${repository}:v1`;
      if (client === 'crane') await crane(['pull', '--format=oci', src, dir], home.env);
      if (client === 'regctl') await regctl(['image', 'copy', src, `ocidir://${dir}:v1`], home.env, [b.host]);
      if (client === 'oras')
        await oras(['cp', '--from-plain-http', '--to-oci-layout', src, `${dir}:v1`], home.env);
      // crane's layout names no tag: its one manifest is the image.
      const tag = client === 'crane' ? undefined : 'v1';
      await expectLayoutHolds(dir, tag, image).catch((err: Error) => {
        err.message = `${client}: ${err.message}\n${fs.readFileSync(path.join(dir, 'index.json'), 'utf8')}`;
        throw err;
      });
      expect(await bHolds(repository)).toEqual(NOTHING);
    }
  });
});

test("oras attach through b to an image whose first signature only a holds: b's referrers index names b's signature only", async () => {
  const repository = 'signed/app';
  // The image is in both regions (replicated); its first signature is attached through a only.
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  await skopeoPush(image.dir, 'v1', { host: b.host, repository });
  const dir = tmp.make('sig');
  fs.writeFileSync(path.join(dir, 'sig-a.json'), '{"signed-by":"a"}');
  fs.writeFileSync(path.join(dir, 'sig-b.json'), '{"signed-by":"b"}');
  const attach = (region: RegionDeployment, file: string) =>
    oras(
      ['attach', '--plain-http', '--artifact-type', SIG_TYPE, `${region.host}/${repository}:v1`, file],
      home.env,
      dir,
    );
  await attach(a, 'sig-a.json');
  expect(referrersIn(a, repository)).toEqual([{ artifactType: SIG_TYPE, content: '{"signed-by":"a"}' }]);
  expect(referrersIn(b, repository)).toEqual([]);
  await attach(b, 'sig-b.json');
  // oras read b's referrers tag with a push token: b's own answer (none yet), never a's index,
  // whose signature b does not hold (a's answer made the index push fail, MANIFEST_BLOB_UNKNOWN).
  // b's index is b's signature alone until replication merges the two; a's is untouched.
  expect(referrersIn(b, repository)).toEqual([{ artifactType: SIG_TYPE, content: '{"signed-by":"b"}' }]);
  expect(referrersIn(a, repository)).toEqual([{ artifactType: SIG_TYPE, content: '{"signed-by":"a"}' }]);
});

const SIG_TYPE = 'application/vnd.geosync.test.sig';

/**
 * What a region's own registry holds (read from its storage directory, not through any Envoy) as
 * the referrers of the test image in `repository`: the index under the OCI referrers tag schema's
 * tag (`sha256-<hex>`, what oras writes on a registry without the referrers API), each referrer's
 * artifact type and the content of its one layer. Empty when there is no such tag.
 */
function referrersIn(
  region: RegionDeployment,
  repository: string,
): { artifactType: string | undefined; content: string }[] {
  const root = region.storageRoot;
  if (!root) throw new Error(`region ${region.name} is not on the filesystem`);
  const blob = (digest: string) => fs.readFileSync(path.join(root, blobDataKey(digest)));
  const tag = `sha256-${image.manifestDigest.slice('sha256:'.length)}`;
  const link = path.join(root, repositoryPrefix(repository), '_manifests/tags', tag, 'current/link');
  if (!fs.existsSync(link)) return [];
  const index = JSON.parse(blob(fs.readFileSync(link, 'utf8').trim()).toString()) as {
    manifests: { digest: string; artifactType?: string }[];
  };
  return index.manifests.map((m) => {
    const manifest = JSON.parse(blob(m.digest).toString()) as {
      subject?: { digest: string };
      layers: { digest: string }[];
    };
    expect(manifest.subject?.digest).toBe(image.manifestDigest);
    expect(manifest.layers).toHaveLength(1);
    return { artifactType: m.artifactType, content: blob(manifest.layers[0]!.digest).toString() };
  });
}
