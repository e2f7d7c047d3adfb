/**
 * Blobs on the proxied path, and pushes next to it (two regions on Swift S3): a `Range` GET on a
 * proxied blob answered 206 with the right bytes and headers (containerd resumes layers that way;
 * distribution reads the range from S3); and a push to B of an image whose layers only A has, which
 * must upload them to B because blob HEADs are never proxied (the failure of Azure/acr#588).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { digestsOf, expectPulledImage } from '../support/oci/layouts';
import { counters, pullFrom, registryRequest, sampleSum } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { blobDataKey, storedContent } from '../support/storage/region-storage';

jest.setTimeout(120_000);

const { d, a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 's3' });

test('a Range GET on a proxied blob through B: 206 with the right bytes and headers', async () => {
  const dir = tmp.make('range');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'r', layerSizes: [200_000] });
  const repository = 'team/range';
  await skopeoPush(image.dir, 'r', { host: a.host, repository });
  const digest = image.layerDigests[0]!;
  const whole = fs.readFileSync(path.join(image.dir, 'blobs', 'sha256', digest.slice(7)));

  const before = await counters(b);
  const [start, end] = [1000, 66_535];
  const res = await registryRequest(b, `/v2/${repository}/blobs/${digest}`, {
    headers: { range: `bytes=${start}-${end}` },
  });
  expect(res.status).toBe(206);
  expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${whole.length}`);
  expect(res.headers.get('content-length')).toBe(String(end - start + 1));
  const served = res.headers.get('docker-content-digest');
  if (served !== null) expect(served).toBe(digest);
  expect(res.body.equals(whole.subarray(start, end + 1))).toBe(true);

  // An open-ended range (a resumed download) too.
  const tail = await registryRequest(b, `/v2/${repository}/blobs/${digest}`, {
    headers: { range: `bytes=${whole.length - 100}-` },
  });
  expect(tail.status).toBe(206);
  expect(tail.headers.get('content-range')).toBe(
    `bytes ${whole.length - 100}-${whole.length - 1}/${whole.length}`,
  );
  expect(tail.body.equals(whole.subarray(whole.length - 100))).toBe(true);

  const after = await counters(b);
  expect(after.redirects - before.redirects).toBe(2);
  const proxiedBlobs = (m: string) =>
    sampleSum(m, 'geosync_decisions_total', { geosync_outcome: 'proxied', geosync_kind: 'blob' });
  expect(proxiedBlobs(after.metrics) - proxiedBlobs(before.metrics)).toBe(2);
  expect((await storedContent(d, b, repository, [digest])).blobKeys).toEqual([]);
});

test('push to B of an image whose layers exist only in A: succeeds, and B then has the layers', async () => {
  const dir = tmp.make('push');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'p', layerSizes: [50_000, 3000] });
  const repository = 'team/push-safety';
  await skopeoPush(image.dir, 'p', { host: a.host, repository });
  // The layers are pullable from B through geosync: a proxy that answered blob HEADs from A
  // would now tell the pushing client "B has them" and the manifest PUT below would fail.
  for (const layer of image.layerDigests) {
    const viaB = await registryRequest(b, `/v2/${repository}/blobs/${layer}`, { method: 'HEAD' });
    expect(viaB.status).toBe(404);
  }

  const before = await counters(b);
  await skopeoPush(image.dir, 'p', { host: b.host, repository });
  const after = await counters(b);
  const proxiedBlobs = (m: string) =>
    sampleSum(m, 'geosync_decisions_total', { geosync_outcome: 'proxied', geosync_kind: 'blob' });
  // Blob HEADs take the local catch-all route (no ext_proc, no redirect): nothing was proxied.
  expect(proxiedBlobs(after.metrics)).toBe(proxiedBlobs(before.metrics));
  expect(after.redirects).toBe(before.redirects);

  const inB = await storedContent(d, b, repository, digestsOf(image));
  expect(inB.blobKeys.sort()).toEqual(digestsOf(image).map(blobDataKey).sort());
  for (const layer of [image.configDigest, ...image.layerDigests]) {
    expect(inB.repositoryKeys).toContain(
      `docker/registry/v2/repositories/${repository}/_layers/sha256/${layer.slice(7)}/link`,
    );
  }
  expect(inB.repositoryKeys).toContain(
    `docker/registry/v2/repositories/${repository}/_manifests/tags/p/current/link`,
  );

  // And B now serves the image itself: no redirect.
  const out = path.join(dir, 'pulled');
  const beforePull = await counters(b);
  await pullFrom(b, { repository, reference: 'p' }, out, { destTag: 'p' });
  await expectPulledImage(out, 'p', image);
  expect((await counters(b)).redirects).toBe(beforePull.redirects);
});
