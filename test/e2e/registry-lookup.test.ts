/**
 * geosync beside a registry that is not CNCF distribution: region a runs go-containerregistry's
 * registry (`crane registry serve`: no distribution layout, nothing geosync could read in storage),
 * named in b's configuration with `lookup: registry` and no storage; b runs distribution on Swift
 * S3. Every cross-region hop (b's Envoy and b's geosync to a's Envoy, which fronts a's registry) is
 * delayed 125 ms each way (a 250 ms round trip), with geosync's defaults. What only a holds is
 * pulled through b by skopeo, crane, regctl, oras and containerd's resolver; b's registry still has
 * none of it; b's tag list shows a's tags; a tag re-pointed in a is served fresh through b on the
 * first resolution after T; a copy of it into b by skopeo or regctl (the pushers told apart
 * without auth) uploads every blob to b.
 * What it cannot show: Harbor, GitLab, zot, Quay, Artifactory or a cloud registry (none runs here);
 * a WAN's loss and jitter.
 */
import path from 'node:path';
import type { CraneRegistry } from '../support/registries/crane-registry';
import { runCli } from '../support/clients/geosync-cli';
import { sleep } from '../support/process';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { clientHome, copyImage, type Env } from '../support/clients/oci-clients';
import { expectContainerdPulls } from '../support/clients/pull-checks';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';
import { expectPulledImage, pullIntoLayout } from '../support/oci/layouts';
import { counters, decisions, registryRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(300_000);

let home: { env: Env; remove(): void };
let image: OciImage;
let other: OciImage;

const { a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: { a: 'registry-api', b: 's3' },
  crossRegionLatencyMs: 125,
  tagMaxStalenessMs: { b: 1000 },
});
beforeAll(() => {
  home = clientHome();
  image = createOciImage(path.join(tmp.make('api'), 'src'), { tag: 'v1', layerSizes: [3000, 7000] });
  other = createOciImage(path.join(tmp.make('api-other'), 'src'), { tag: 'v1', layerSizes: [2000] });
});
afterAll(() => home?.remove());

const craneOf = (): CraneRegistry => a.registry as CraneRegistry;

async function onlyInA(repository: string, img: OciImage = image, tag = 'v1'): Promise<void> {
  await skopeoPush(img.dir, 'v1', { host: a.registry.host, repository, tag });
}

test('b names a with `lookup: registry` and no storage, and check-config accepts it', async () => {
  const r = await runCli(['check-config', '--config', b.configFile]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

test.each(['skopeo', 'crane', 'regctl', 'oras'] as const)(
  '%s: the first pull through b of an image only a holds is rescued; b stores none of it',
  async (client) => {
    const repository = `api/${client}`;
    await onlyInA(repository);
    const timeoutsBefore = await decisions(b, 'timeout');
    await pullIntoLayout(client, { host: b.host, repository }, tmp.make(`api-${client}`), image, home.env);
    expect(await decisions(b, 'timeout')).toBe(timeoutsBefore);
    // Nothing was written in b: its registry, asked directly, still has none of it.
    const direct = await fetch(`${b.registry.url}/v2/${repository}/manifests/v1`, { method: 'HEAD' });
    expect(direct.status).toBe(404);
    const blob = await fetch(`${b.registry.url}/v2/${repository}/blobs/${image.layerDigests[0]}`, {
      method: 'HEAD',
    });
    expect(blob.status).toBe(404);
  },
);

test("containerd's resolver: the tag and the digest, first pulls, rescued", async () => {
  const repository = 'api/containerd';
  await onlyInA(repository);
  await onlyInA(`${repository}-digest`);
  await expectContainerdPulls(b.host, repository, image.manifestDigest, home.env);
});

test("b's tag list of a repository only a holds lists a's tags", async () => {
  const repository = 'api/tags';
  for (const tag of ['v1', 'v2', 'v3']) await onlyInA(repository, image, tag);
  const before = await craneOf().lookups(`/v2/${repository}/tags/list`);
  const res = await registryRequest(b, `/v2/${repository}/tags/list`);
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body.toString('utf8'))).toEqual({ name: repository, tags: ['v1', 'v2', 'v3'] });
  // Listed by a's own registry, asked by b's geosync.
  expect(await craneOf().lookups(`/v2/${repository}/tags/list`)).toBeGreaterThan(before);
});

test('a tag re-pointed in a is served through b at its new digest on the first resolution after T', async () => {
  const repository = 'api/moving';
  // Both regions have v1 at the first image (replication had caught up), then a re-points it.
  await onlyInA(repository, image);
  await skopeoPush(image.dir, 'v1', { host: b.registry.host, repository });
  const tagPath = `/v2/${repository}/manifests/v1`;
  const first = await registryRequest(b, tagPath, { method: 'HEAD' });
  expect(first.headers.get('docker-content-digest')).toBe(image.manifestDigest);
  await onlyInA(repository, other);
  // The first answer ("fresh") is reused for T (1 s), then the next resolution checks again: with
  // the defaults its check waits for a as long as a's learnt deadline allows (twice it: two round
  // trips), so that very resolution, not a later retry, gets the new digest.
  await sleep(1_500);
  const after = await registryRequest(b, tagPath, { method: 'HEAD' });
  expect(after.headers.get('docker-content-digest')).toBe(other.manifestDigest);
  // A pull of it gets the new image's bytes, from a.
  const dir = tmp.make('api-moving');
  await skopeoPull({ host: b.host, repository, reference: 'v1' }, dir, { destTag: 'v1' });
  await expectPulledImage(dir, 'v1', other);
});

/**
 * The pushers geosync tells from pullers without auth (docs/pushes.md): skopeo checks no manifest
 * before it pushes, regctl is known by its User-Agent. crane, oras and containerd's pusher HEAD the
 * destination's manifests first, and anonymous (this deployment has no auth) they look like a pull:
 * the documented limit of anonymous pushes, whatever the lookup kind (with a push token they are
 * told apart: test/e2e/clients.test.ts). Tried here: all three then skipped uploads into b.
 */
const ANONYMOUS_PUSHERS = ['skopeo', 'regctl'] as const;

test.each(ANONYMOUS_PUSHERS)(
  '%s: a push through b of an image only a holds uploads every blob to b; b then serves it itself',
  async (client) => {
    const repository = `api/push-${client}`;
    await onlyInA(repository);
    // A pusher asks b whether each blob (and some, the manifest) is there before it uploads: had
    // a lookup of a answered those, the client would skip the uploads and b would refuse the
    // manifest (BLOB_UNKNOWN), or skip the push altogether.
    await copyImage(client, `${a.host}/${repository}:v1`, `${b.host}/${repository}:v1`, home.env);
    for (const d of [image.configDigest, ...image.layerDigests]) {
      const direct = await fetch(`${b.registry.url}/v2/${repository}/blobs/${d}`, { method: 'HEAD' });
      expect(direct.status).toBe(200);
    }
    const redirectsBefore = (await counters(b)).redirects;
    const dir = tmp.make(`api-pushed-${client}`);
    await skopeoPull({ host: b.host, repository, reference: 'v1' }, dir, { destTag: 'v1' });
    await expectPulledImage(dir, 'v1', image);
    expect((await counters(b)).redirects).toBe(redirectsBefore);
  },
);
