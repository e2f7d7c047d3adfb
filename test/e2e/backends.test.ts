/**
 * Regions on different object stores, each the store its registry writes with its own driver:
 * region a on S3 (Swift), b on Azure Blob Storage (Azurite), c on Google Cloud Storage
 * (fake-gcs-server); every registry distribution v3, every region behind a real Envoy from the
 * generated bootstrap, geosync probing each sibling in its own store's API. An image pushed to
 * any region is pulled from the two others at once, nothing is written in them, and tag freshness
 * reads a tag's index across stores.
 *
 * What this cannot show: Azure's and Google's services themselves (the emulators implement their
 * APIs, not their permissions or identities); cloud-probes.test.ts says the same of the probes.
 */
import path from 'node:path';
import type { RegionDeployment } from '../support/stacks/deployment';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { isManifestPush } from '../support/stacks/notification-sink';
import { expectPulledImage } from '../support/oci/layouts';
import {
  decisions,
  geosyncMetrics,
  sampleSum,
  pullFrom,
  registryRequest,
} from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(300_000);

const { d, a, b, c, tmp } = useDeployment({
  regions: ['a', 'b', 'c'],
  storage: { a: 's3', b: 'azure', c: 'gcs' },
  tagMaxStalenessMs: { b: 300_000 },
  notifications: true,
});

async function push(
  region: RegionDeployment,
  repository: string,
  tag: string,
  image?: OciImage,
): Promise<OciImage> {
  const img =
    image ??
    createOciImage(path.join(tmp.make(`${region.name}-${tag}`), 'src'), { tag, layerSizes: [2000, 3000] });
  await skopeoPush(img.dir, tag, { host: region.host, repository });
  return img;
}

/** The keys of `repository` and of the image's blobs that `region`'s own store holds. */
async function held(region: RegionDeployment, repository: string, image: OciImage): Promise<number> {
  const { repositoryKeys, blobKeys } = await storedContent(d, region, repository, [
    image.manifestDigest,
    image.configDigest,
    ...image.layerDigests,
  ]);
  return repositoryKeys.length + blobKeys.length;
}

test('every region is on the store it was configured for, written by distribution v3', () => {
  expect(d.regions.map((r) => [r.name, r.backend, r.registry.version])).toEqual([
    ['a', 's3', 3],
    ['b', 'azure', 3],
    ['c', 'gcs', 3],
  ]);
});

describe.each([
  ['a', 'S3'],
  ['b', 'Azure Blob'],
  ['c', 'GCS'],
])('pushed to %s (%s), pulled from the others at once', (from) => {
  test('whole image by a real client; nothing written where it was pulled', async () => {
    const source = d.region(from);
    const repository = `mixed/from-${from}`;
    const image = await push(source, repository, 'v1');
    expect(await held(source, repository, image)).toBeGreaterThan(0);
    for (const target of d.regions.filter((r) => r.name !== from)) {
      const proxied = await decisions(target, 'proxied');
      const out = path.join(tmp.make(`pull-${from}-${target.name}`), 'out');
      await pullFrom(target, { repository, reference: 'v1' }, out, { destTag: 'v1' });
      await expectPulledImage(out, 'v1', image);
      expect(await decisions(target, 'proxied')).toBeGreaterThan(proxied);
      expect(await held(target, repository, image)).toBe(0);
    }
  });

  test("its tag is in the others' tag lists at once (each lists the source's store)", async () => {
    const repository = `mixed/tags-from-${from}`;
    await push(d.region(from), repository, 'v7');
    for (const target of d.regions.filter((r) => r.name !== from)) {
      const res = await registryRequest(target, `/v2/${repository}/tags/list`);
      expect([target.name, res.status]).toEqual([target.name, 200]);
      expect(JSON.parse(res.body.toString())).toEqual({ name: repository, tags: ['v7'] });
    }
  });
});

test('tag freshness across stores: B (Azure) serves the tag C (GCS) moved past B’s digest', async () => {
  const repository = 'mixed/moved';
  // Both hold v1 (as after replication); then C moves the tag to v2.
  const v1 = await push(c, repository, 'prod');
  await push(b, repository, 'prod', v1);
  const v2 = await push(c, repository, 'prod');
  const res = await registryRequest(b, `/v2/${repository}/manifests/prod`);
  expect(res.status).toBe(200);
  expect(res.headers.get('docker-content-digest')).toBe(v2.manifestDigest);
  // A (S3) never had the tag, so C's answer decided; B's own store still says v1.
  expect(await held(a, repository, v1)).toBe(0);
  expect(await decisions(b, 'fresher')).toBeGreaterThanOrEqual(1);
  const bOwn = await storedContent(d, b, repository, []);
  expect(bOwn.repositoryKeys.some((k) => k.includes(v2.manifestDigest.slice('sha256:'.length)))).toBe(false);
});

test("a distribution v3 registry's notifications (events media type v2) reach geosync and count", async () => {
  const repository = 'mixed/notified';
  const accepted = async () =>
    sampleSum(await geosyncMetrics(c), 'geosync_notifications_requests_total', {
      geosync_result: 'accepted',
    });
  const refused = async () =>
    sampleSum(await geosyncMetrics(c), 'geosync_notifications_requests_total', {
      geosync_result: 'unsupported_media_type',
    });
  const before = await accepted();
  await push(c, repository, 'v1');
  // The sink saw the push (so the registry sent it); geosync accepted it, and refused none.
  await c.sink!.waitFor((e) => isManifestPush(e, repository), 1, 20_000);
  for (const until = Date.now() + 20_000; (await accepted()) === before && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 100));
  expect(await accepted()).toBeGreaterThan(before);
  expect(await refused()).toBe(0);
});
