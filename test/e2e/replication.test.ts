/**
 * geosync covers the replication lag, then steps aside: two regions on Swift S3; an image pushed to
 * A is proxied for B until the test replicates it (S3 CopyObject, A's bucket → B's, as a
 * replication pipeline would), after which B serves it locally and geosync only lets it pass.
 */
import path from 'node:path';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { digestsOf, expectPulledImage } from '../support/oci/layouts';
import { counters, pullFrom } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { replicateS3, repositoryPrefix, storedContent } from '../support/storage/region-storage';

jest.setTimeout(120_000);

// On distribution 2.8 (Debian's) and S3, which the README still supports (smoke.test.ts: the same
// on the filesystem); every other suite runs 3.x.
const { d, a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 's3', registryVersion: 2 });

test('after replication A → B, B serves locally and geosync is no longer involved', async () => {
  const dir = tmp.make('replication');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1', layerSizes: [4096, 80_000] });
  const repository = 'team/replicated';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });

  // Before replication: proxied.
  const first = await counters(b);
  await pullFrom(b, { repository, reference: 'v1' }, path.join(dir, 'before'), {
    destTag: 'v1',
  });
  await expectPulledImage(path.join(dir, 'before'), 'v1', image);
  const second = await counters(b);
  expect(second.redirects - first.redirects).toBeGreaterThanOrEqual(4);
  expect(second.proxied - first.proxied).toBeGreaterThanOrEqual(4);

  const copied = await replicateS3(d, a, b, repository, digestsOf(image));
  expect(copied.some((k) => k.startsWith(`${repositoryPrefix(repository)}_manifests/tags/v1/`))).toBe(true);
  const inB = await storedContent(d, b, repository, digestsOf(image));
  expect(inB.blobKeys).toHaveLength(digestsOf(image).length);

  // After replication: the same pull is a local hit at every step.
  await pullFrom(b, { repository, reference: 'v1' }, path.join(dir, 'after'), { destTag: 'v1' });
  await expectPulledImage(path.join(dir, 'after'), 'v1', image);
  const third = await counters(b);
  expect(third.redirects).toBe(second.redirects);
  expect(third.proxied).toBe(second.proxied);
  expect(third.notFound).toBe(second.notFound);
  // Manifest, config and two layers answered 200 by B's registry: geosync was not even asked.
  expect(third.localPulls - second.localPulls).toBeGreaterThanOrEqual(4);
  expect(third.extProcStreams).toBe(second.extProcStreams);

  // By digest too.
  await pullFrom(b, { repository, reference: image.manifestDigest }, path.join(dir, 'by-digest'), {
    destTag: 'd',
  });
  await expectPulledImage(path.join(dir, 'by-digest'), 'd', image);
  const fourth = await counters(b);
  expect(fourth.redirects).toBe(second.redirects);
  expect(fourth.proxied).toBe(second.proxied);
  expect(fourth.extProcStreams).toBe(second.extProcStreams);
});
