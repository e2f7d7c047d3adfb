import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDeployment, type Deployment } from '../support/deployment';
import { createOciImage } from '../support/oci-image';
import { skopeoPull, skopeoPush } from '../support/skopeo';
import { ENVOY_STAT } from '../support/envoy';

jest.setTimeout(120_000);
let d: Deployment;
beforeAll(async () => {
  d = await startDeployment({ regions: ['a', 'b'], storage: 'filesystem' });
});
afterAll(() => d?.stop());

test('push to A, pull from B', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'smoke-'));
  const img = createOciImage(path.join(tmp, 'img'), { tag: 'v1' });
  await skopeoPush(img.dir, 'v1', { host: d.region('a').host, repository: 'team/app' });
  await skopeoPull(
    { host: d.region('b').host, repository: 'team/app', reference: 'v1' },
    path.join(tmp, 'out'),
  );
  expect(await d.region('b').envoy.stat(ENVOY_STAT.redirectsFollowed)).toBeGreaterThan(0);
});
