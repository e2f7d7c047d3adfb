/**
 * The Envoy 1.37 configuration mode: `geosync envoy-config --envoy-version 1.37` generates request
 * headers SKIP with request attributes sent on the response path (and the simulator imitates 1.37:
 * the stream-close optimization, attributes available when request headers are skipped). The basic
 * promise must hold the same way: push to A, pull from B at once; a local hit passes; a tag that
 * exists nowhere is a fast 404. Two regions on the filesystem driver.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startDeployment, type Deployment, type RegionDeployment } from '../support/deployment';
import { createOciImage, createOciIndex } from '../support/oci-image';
import { skopeoPush } from '../support/skopeo';
import {
  E2E_LOOKUP_TIMEOUT_MS,
  TempDirs,
  lookupDurations,
  counters,
  digestsOf,
  expectPulledImage,
  expectPulledIndex,
  registryRequest,
  storedContent,
  pullFrom,
} from './helpers';

jest.setTimeout(120_000);

let d: Deployment;
let a: RegionDeployment;
let b: RegionDeployment;
const tmp = new TempDirs();

beforeAll(async () => {
  d = await startDeployment({
    regions: ['a', 'b'],
    storage: 'filesystem',
    envoyVersion: '1.37',
    lookupTimeoutMs: E2E_LOOKUP_TIMEOUT_MS,
  });
  [a, b] = [d.region('a'), d.region('b')];
});
afterAll(async () => {
  await d?.stop();
  tmp.removeAll();
});

test('the generated bootstrap is the 1.37 mode: request headers skipped, attributes requested', () => {
  const bootstrap = fs.readFileSync(path.join(d.dir, 'envoy-b.yaml'), 'utf8');
  expect(bootstrap).toMatch(/request_header_mode:\s*SKIP/);
  expect(bootstrap).toMatch(/response_attributes/);
  expect(b.envoy.kind === 'real' || b.envoy.kind === 'simulator').toBe(true);
});

test('push to A, pull from B at once (1.37 mode), by tag and as an index', async () => {
  const dir = tmp.make('v137');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/v137';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });

  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  await pullFrom(b, { repository, reference: 'v1' }, out, { destTag: 'v1' });
  await expectPulledImage(out, 'v1', image);
  const after = await counters(b);
  expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(4);
  expect(after.proxied - before.proxied).toBeGreaterThanOrEqual(4);

  const index = createOciIndex(path.join(dir, 'index-src'), { tag: 'multi' });
  await skopeoPush(index.dir, 'multi', { host: a.host, repository });
  const indexOut = path.join(dir, 'index-pulled');
  await pullFrom(b, { repository, reference: 'multi' }, indexOut, {
    destTag: 'multi',
    all: true,
  });
  await expectPulledIndex(indexOut, 'multi', index);

  expect(await storedContent(d, b, repository, [...digestsOf(image), ...digestsOf(index)])).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});

test('a local hit passes and a tag that exists nowhere is a fast 404 (1.37 mode)', async () => {
  const dir = tmp.make('v137-local');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'here' });
  const repository = 'team/v137-local';
  await skopeoPush(image.dir, 'here', { host: b.host, repository });

  const before = await counters(b);
  await pullFrom(b, { repository, reference: 'here' }, path.join(dir, 'out'), {
    destTag: 'here',
  });
  await expectPulledImage(path.join(dir, 'out'), 'here', image);
  const missing = await registryRequest(b, `/v2/${repository}/manifests/nowhere`);
  expect(missing.status).toBe(404);
  expect(missing.ms).toBeLessThan(1_000);
  const after = await counters(b);
  expect(after.redirects).toBe(before.redirects);
  expect(after.proxied).toBe(before.proxied);
  expect(after.pass - before.pass).toBeGreaterThanOrEqual(4);
  expect(after.notFound - before.notFound).toBe(1);
  // The lookup ended when the sibling answered "not found", long before its deadline.
  const [l0, l1] = [before, after].map((x) => lookupDurations(x.metrics, 'not_found'));
  expect(l1!.count - l0!.count).toBe(1);
  expect((l1!.seconds - l0!.seconds) * 1000).toBeLessThan(E2E_LOOKUP_TIMEOUT_MS / 4);
});
