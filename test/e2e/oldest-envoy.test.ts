/**
 * The core pull scenarios on the oldest Envoy release geosync supports (scripts/envoy-versions,
 * OLDEST), with the same generated bootstrap as every other test: push to A, pull from B at once
 * (by tag, as an index); a local hit costs no round trip to geosync; a tag that exists nowhere is
 * a plain 404 after a lookup; a client-chosen sibling Host gets no sibling content. Two regions on
 * the filesystem driver.
 */
import path from 'node:path';
import { createOciImage, createOciIndex } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { pinnedVersions } from '../support/envoy/envoy';
import { digestsOf, expectPulledImage, expectPulledIndex } from '../support/oci/layouts';
import {
  counters,
  expectNoSiblingContent,
  lookupDurations,
  pullFrom,
  registryRequest,
} from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(120_000);

const { d, a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
  envoyRelease: 'oldest',
});

test('every region runs the oldest pinned Envoy release', () => {
  for (const r of [a, b]) expect(r.envoy.binary.version).toBe(pinnedVersions().oldest);
});

test('push to A, pull from B at once, by tag and as an index', async () => {
  const dir = tmp.make('oldest');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/oldest';
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

test('a local hit costs no round trip; a tag that exists nowhere is a 404 after a lookup', async () => {
  const dir = tmp.make('oldest-local');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'here' });
  const repository = 'team/oldest-local';
  await skopeoPush(image.dir, 'here', { host: b.host, repository });

  const before = await counters(b);
  await pullFrom(b, { repository, reference: 'here' }, path.join(dir, 'out'), {
    destTag: 'here',
  });
  await expectPulledImage(path.join(dir, 'out'), 'here', image);
  const hit = await counters(b);
  expect(hit.redirects).toBe(before.redirects);
  expect(hit.proxied).toBe(before.proxied);
  expect(hit.localPulls - before.localPulls).toBeGreaterThanOrEqual(4);
  expect(hit.extProcStreams).toBe(before.extProcStreams);

  const missing = await registryRequest(b, `/v2/${repository}/manifests/nowhere`);
  expect(missing.status).toBe(404);
  const after = await counters(b);
  expect(after.extProcStreams - hit.extProcStreams).toBe(1);
  expect(after.notFound - hit.notFound).toBe(1);
  // The lookup ended when the sibling answered "not found", not at its deadline.
  const [l0, l1] = [hit, after].map((x) => lookupDurations(x.metrics, 'not_found'));
  expect(l1!.count - l0!.count).toBe(1);
  expect(lookupDurations(after.metrics, 'timeout').count).toBe(lookupDurations(hit.metrics, 'timeout').count);
});

test("a client that sends A's host to B's Envoy gets no content of A's", async () => {
  const dir = tmp.make('oldest-outsider');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'only-a' });
  const repository = 'team/oldest-outsider';
  await skopeoPush(image.dir, 'only-a', { host: a.host, repository });
  await expectNoSiblingContent(b, a, `/v2/${repository}/manifests/only-a`);
});

// The tag-list union needs a reply's mode_override, a BUFFERED_PARTIAL body and a body mutation
// without Content-Length (src/extproc/replies.ts): all as on the newest release.
test('a tag list from B includes a tag only A holds, and a repository only A holds lists', async () => {
  const dir = tmp.make('oldest-tags');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/oldest-tags';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  const onlyA = await registryRequest(b, `/v2/${repository}/tags/list`);
  expect(onlyA.status).toBe(200);
  expect(JSON.parse(onlyA.body.toString())).toEqual({ name: repository, tags: ['v1'] });

  await skopeoPush(image.dir, 'v1', { host: b.host, repository, tag: 'v0' });
  const paged = await registryRequest(b, `/v2/${repository}/tags/list?n=1`);
  expect(JSON.parse(paged.body.toString())).toEqual({ name: repository, tags: ['v0'] });
  // The next page, as the Link says (the registry's own here: the union added nothing to page 1).
  const next = /^<([^>]+)>; rel="next"$/.exec(paged.headers.get('link') ?? '')?.[1];
  expect(next).toMatch(/last=v0/);
  const second = await registryRequest(b, next!);
  expect(JSON.parse(second.body.toString())).toEqual({ name: repository, tags: ['v1'] });
});
