/**
 * A manifest's contents are a hint, not the truth: real distribution 3 registries that accept an
 * index whose children they lack (`validation.manifests.indexes.platforms: none`, as a sparse
 * mirror runs). Region a holds an index naming a child manifest that only c holds; b holds
 * neither. Through b: the index is rescued from a, and then its child, by digest, from c, where
 * it is, not from a, where the index said it would be. skopeo then pulls the image by the index's
 * tag through b. Before, the child was cached as held in a (from the index's contents) and its
 * redirect answered a's 404 for the cache's lifetime. geosync's defaults.
 */
import path from 'node:path';
import { createOciImage, MEDIA_TYPES } from '../support/oci/oci-image';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';
import { expectPulledImage, layoutRef } from '../support/oci/layouts';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(180_000);

const REPO = 'sparse/app';
const OCI_MANIFEST = MEDIA_TYPES.manifest;
const OCI_INDEX = MEDIA_TYPES.index;

const { a, b, c, tmp } = useDeployment({
  regions: ['a', 'b', 'c'],
  storage: 'filesystem',
  sparseIndexes: true,
});

test("an index's child that the index's region lacks is rescued from the region that holds it", async () => {
  const image = createOciImage(path.join(tmp.make('sparse'), 'child'), {
    tag: 'v1',
    layerSizes: [2000, 5000],
  });
  await skopeoPush(image.dir, 'v1', { host: c.host, repository: REPO });
  const head = await fetch(`${c.registry.url}/v2/${REPO}/manifests/v1`, {
    method: 'HEAD',
    headers: { accept: OCI_MANIFEST },
  });
  const childDigest = head.headers.get('docker-content-digest') as string;
  const childSize = Number(head.headers.get('content-length'));
  expect(childDigest).toMatch(/^sha256:/);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: childDigest,
        size: childSize,
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
  });
  const put = await fetch(`${a.registry.url}/v2/${REPO}/manifests/multi`, {
    method: 'PUT',
    headers: { 'content-type': OCI_INDEX },
    body: index,
  });
  expect(put.status).toBe(201);
  // a holds the index but not its child; b holds neither.
  expect(
    (
      await fetch(`${a.registry.url}/v2/${REPO}/manifests/${childDigest}`, {
        headers: { accept: OCI_MANIFEST },
      })
    ).status,
  ).toBe(404);
  expect(
    (await fetch(`${b.registry.url}/v2/${REPO}/manifests/multi`, { headers: { accept: OCI_INDEX } })).status,
  ).toBe(404);

  const viaB = await fetch(`${b.url}/v2/${REPO}/manifests/multi`, { headers: { accept: OCI_INDEX } });
  expect(viaB.status).toBe(200);
  expect(await viaB.text()).toBe(index);
  // What the index names, by digest, through b: from c.
  const child = await fetch(`${b.url}/v2/${REPO}/manifests/${childDigest}`, {
    headers: { accept: OCI_MANIFEST },
  });
  expect(child.status).toBe(200);
  expect(child.headers.get('docker-content-digest')).toBe(childDigest);

  // A client's whole pull by the index's tag: the index from a, the child and its blobs from c.
  const dir = tmp.make('pulled');
  await skopeoPull({ host: b.host, repository: REPO, reference: 'multi' }, dir, { destTag: 'multi' });
  expect(layoutRef(dir, 'multi').digest).toBe(childDigest);
  await expectPulledImage(dir, 'multi', { ...image, manifestDigest: childDigest, manifestSize: childSize });
});
