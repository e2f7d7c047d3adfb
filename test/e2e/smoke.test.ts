import path from 'node:path';
import { useDeployment } from '../support/stacks/use-deployment';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';
import { ENVOY_STAT } from '../support/envoy/envoy';

jest.setTimeout(120_000);
// Kept on distribution 2.8 (Debian's), which the README still supports, with replication.test.ts
// (the same on S3); every other suite runs 3.x.
const { a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 'filesystem', registryVersion: 2 });

test('push to A, pull from B (distribution 2.8)', async () => {
  expect([a.registry.version, b.registry.version]).toEqual([2, 2]);
  const dir = tmp.make('smoke');
  const img = createOciImage(path.join(dir, 'img'), { tag: 'v1' });
  await skopeoPush(img.dir, 'v1', { host: a.host, repository: 'team/app' });
  await skopeoPull({ host: b.host, repository: 'team/app', reference: 'v1' }, path.join(dir, 'out'));
  expect(await b.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBeGreaterThan(0);
});
