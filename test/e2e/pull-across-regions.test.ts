/**
 * The seed's promise, end to end with realistic timings: three regions on Swift S3, 40 ms one-way
 * between regions (Envoy → sibling Envoy, geosync → sibling storage). An image pushed to A is
 * pullable from B and C at once, by tag, by digest, as a multi-platform index, byte for byte; B and
 * C store nothing (replication's job). A tag that exists nowhere is a fast 404; a local hit is never
 * proxied.
 */
import path from 'node:path';
import { startDeployment, type Deployment, type RegionDeployment } from '../support/deployment';
import { createOciImage, createOciIndex } from '../support/oci-image';
import { skopeoPush } from '../support/skopeo';
import {
  E2E_LOOKUP_TIMEOUT_MS,
  TempDirs,
  counters,
  digestsOf,
  expectPulledImage,
  expectPulledIndex,
  lookupDurations,
  registryRequest,
  rescuedFrom,
  sampleSum,
  storedContent,
  timed,
  pullFrom,
} from './helpers';

jest.setTimeout(120_000);

const LATENCY_MS = 40;
// A cross-region storage probe costs one round trip (2 × 40 ms) plus Swift's own time.
const LOOKUP_TIMEOUT_MS = E2E_LOOKUP_TIMEOUT_MS;

let d: Deployment;
let a: RegionDeployment;
let b: RegionDeployment;
let c: RegionDeployment;
const tmp = new TempDirs();

beforeAll(async () => {
  d = await startDeployment({
    regions: ['a', 'b', 'c'],
    storage: 's3',
    crossRegionLatencyMs: LATENCY_MS,
    lookupTimeoutMs: LOOKUP_TIMEOUT_MS,
  });
  [a, b, c] = [d.region('a'), d.region('b'), d.region('c')];
});
afterAll(async () => {
  await d?.stop();
  tmp.removeAll();
});

test('push to A, pull at once from B and C by tag: first try, same bytes, nothing stored in B or C', async () => {
  const dir = tmp.make('basic');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1', layerSizes: [2048, 300_000, 10] });
  const repository = 'team/basic';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });

  for (const region of [b, c]) {
    const before = await counters(region);
    const out = path.join(dir, `pulled-${region.name}`);
    const { ms } = await timed(() =>
      pullFrom(region, { repository, reference: 'v1' }, out, { destTag: 'v1' }),
    );
    await expectPulledImage(out, 'v1', image);
    const after = await counters(region);
    // manifest by tag, config, three layers: each a 404 locally, each redirected to A.
    expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(5);
    expect(rescuedFrom(after.metrics, 'a') - rescuedFrom(before.metrics, 'a')).toBeGreaterThanOrEqual(5);
    expect(ms).toBeLessThan(30_000);
  }

  for (const region of [b, c]) {
    expect(await storedContent(d, region, repository, digestsOf(image))).toEqual({
      repositoryKeys: [],
      blobKeys: [],
    });
  }
  // The source still has everything (sanity check of the storage listing itself).
  const inA = await storedContent(d, a, repository, digestsOf(image));
  expect(inA.blobKeys).toHaveLength(digestsOf(image).length);
  expect(inA.repositoryKeys.some((k) => k.endsWith('/_manifests/tags/v1/current/link'))).toBe(true);
});

test('pull by digest from B, never pulled anywhere before', async () => {
  const dir = tmp.make('digest');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v2' });
  const repository = 'team/by-digest';
  await skopeoPush(image.dir, 'v2', { host: a.host, repository });

  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  await pullFrom(b, { repository, reference: image.manifestDigest }, out, { destTag: 'p' });
  await expectPulledImage(out, 'p', image);
  const after = await counters(b);
  const byDigest = (m: string) =>
    sampleSum(m, 'geosync_decisions_total', {
      geosync_outcome: 'proxied',
      geosync_kind: 'manifest_by_digest',
    });
  expect(byDigest(after.metrics) - byDigest(before.metrics)).toBeGreaterThanOrEqual(1);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});

test('a multi-platform index whose children and blobs are all missing in B: pulled whole with --all', async () => {
  const dir = tmp.make('index');
  const index = createOciIndex(path.join(dir, 'src'), {
    tag: 'multi',
    platforms: [
      { os: 'linux', architecture: 'amd64', layerSizes: [4096, 100] },
      { os: 'linux', architecture: 'arm64', layerSizes: [8192] },
      { os: 'linux', architecture: 's390x', layerSizes: [512] },
    ],
  });
  const repository = 'team/multi-arch';
  await skopeoPush(index.dir, 'multi', { host: a.host, repository });

  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  await pullFrom(b, { repository, reference: 'multi' }, out, { destTag: 'multi', all: true });
  await expectPulledIndex(out, 'multi', index);
  const after = await counters(b);
  const proxied = (m: string, kind: string) =>
    sampleSum(m, 'geosync_decisions_total', { geosync_outcome: 'proxied', geosync_kind: kind });
  // The index by tag, then every child manifest by digest, then every blob: each hop proxied.
  expect(
    proxied(after.metrics, 'manifest_by_tag') - proxied(before.metrics, 'manifest_by_tag'),
  ).toBeGreaterThanOrEqual(1);
  expect(
    proxied(after.metrics, 'manifest_by_digest') - proxied(before.metrics, 'manifest_by_digest'),
  ).toBeGreaterThanOrEqual(index.manifests.length);
  const blobs = index.manifests.reduce((n, m) => n + 1 + m.layerDigests.length, 0);
  expect(proxied(after.metrics, 'blob') - proxied(before.metrics, 'blob')).toBeGreaterThanOrEqual(blobs);
  expect(await storedContent(d, b, repository, digestsOf(index))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});

test('a tag that exists nowhere: a plain 404, quickly, after geosync looked', async () => {
  const before = await counters(b);
  const res = await registryRequest(b, '/v2/team/basic/manifests/does-not-exist-anywhere');
  expect(res.status).toBe(404);
  expect(JSON.parse(res.body.toString()) as unknown).toMatchObject({
    errors: [expect.objectContaining({ code: 'MANIFEST_UNKNOWN' })],
  });
  expect(res.ms).toBeLessThan(1_000);
  const after = await counters(b);
  expect(after.notFound - before.notFound).toBe(1);
  // geosync's own measure: both siblings answered "not found" (one round trip each, in parallel),
  // and the lookup ended then, well before its deadline.
  const lookups = [before, after].map((x) => lookupDurations(x.metrics, 'not_found'));
  expect(lookups[1]!.count - lookups[0]!.count).toBe(1);
  const lookupMs = (lookups[1]!.seconds - lookups[0]!.seconds) * 1000;
  expect(lookupMs).toBeGreaterThanOrEqual(2 * LATENCY_MS);
  expect(lookupMs).toBeLessThan(LOOKUP_TIMEOUT_MS / 2);
  expect(after.redirects).toBe(before.redirects);

  // A repository that exists nowhere either.
  const other = await registryRequest(b, '/v2/nobody/home/manifests/latest');
  expect(other.status).toBe(404);
  expect(other.ms).toBeLessThan(1_000);
});

test('a pull that B can serve locally is never proxied', async () => {
  const dir = tmp.make('local');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'local' });
  const repository = 'team/local';
  await skopeoPush(image.dir, 'local', { host: b.host, repository });

  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  await pullFrom(b, { repository, reference: 'local' }, out, { destTag: 'local' });
  await expectPulledImage(out, 'local', image);
  const after = await counters(b);
  expect(after.redirects).toBe(before.redirects);
  expect(after.proxied).toBe(before.proxied);
  // manifest by tag, config and two layers answered by B's registry: geosync let them pass.
  expect(after.pass - before.pass).toBeGreaterThanOrEqual(4);
});
