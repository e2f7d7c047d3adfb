/**
 * Tag lists are bounded-stale with geosync's defaults (`freshness.tagListMaxStalenessMs`, 1 s):
 * `GET /v2/<name>/tags/list` through b's Envoy answers the union of b's tags and the tags a's
 * storage holds, so a tag watcher in b sees a tag pushed to a at once, and a repository only a
 * holds lists from b (200, not NAME_UNKNOWN). Pagination (`n`, `last`, `Link`) spans both regions.
 * Authorization stays the local registry's: without credentials b's 401 passes as it is.
 *
 * Real parts: two distribution v3 registries with htpasswd auth on their filesystem driver, two
 * Envoys from `geosync envoy-config`, two geosyncs; crane, oras, regctl and skopeo list the tags.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { clientHome, crane, oras, regctl, type Env } from '../support/clients/oci-clients';
import { run } from '../support/process';
import { skopeoPush } from '../support/clients/skopeo';
import type { RegionDeployment } from '../support/stacks/deployment';
import { basicAuth, counters, decisions, registryRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(180_000);

const creds = { username: 'lister', password: 'tag-list-secret' };
const authorization = basicAuth(creds.username, creds.password);
const { a, b, tmp } = useDeployment({ regions: ['a', 'b'], storage: 'filesystem', auth: creds });

let home: { env: Env; remove(): void };
let image: OciImage;
let manifest: Buffer;
beforeAll(() => {
  home = clientHome();
  const auths = Object.fromEntries(
    [a.host, b.host].map((h) => [
      h,
      { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') },
    ]),
  );
  fs.mkdirSync(home.env.DOCKER_CONFIG as string, { recursive: true });
  fs.writeFileSync(path.join(home.env.DOCKER_CONFIG as string, 'config.json'), JSON.stringify({ auths }));
  image = createOciImage(path.join(tmp.make('image'), 'src'), { tag: 'v1', layerSizes: [1500] });
  manifest = fs.readFileSync(
    path.join(image.dir, 'blobs', 'sha256', image.manifestDigest.slice('sha256:'.length)),
  );
});
afterAll(() => home?.remove());

/** Tags the image in `region`'s registry directly (as a push there, or replication, does). */
async function tagIn(region: RegionDeployment, repository: string, tags: readonly string[]): Promise<void> {
  for (const tag of tags) {
    const res = await fetch(`${region.registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    expect(res.status).toBe(201);
  }
}

async function pushTo(region: RegionDeployment, repository: string): Promise<void> {
  await skopeoPush(image.dir, 'v1', { host: region.host, repository }, { creds });
}

async function tagsVia(region: RegionDeployment, query: string, repository: string) {
  const res = await registryRequest(region, `/v2/${repository}/tags/list${query}`, {
    headers: { authorization },
  });
  return {
    status: res.status,
    link: res.headers.get('link'),
    tags: res.status === 200 ? (JSON.parse(res.body.toString()) as { tags: string[] }).tags : [],
  };
}

const lines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .sort();

test('a tag pushed to a is listed through b at once by crane, oras, regctl and skopeo', async () => {
  const repo = 'lists/app';
  await pushTo(a, repo);
  await pushTo(b, repo);
  await tagIn(a, repo, ['v2']);
  const merged = await decisions(b, 'merged');

  expect(lines((await crane(['ls', `${b.host}/${repo}`], home.env)).stdout)).toEqual(['v1', 'v2']);
  expect(lines((await oras(['repo', 'tags', '--plain-http', `${b.host}/${repo}`], home.env)).stdout)).toEqual(
    ['v1', 'v2'],
  );
  expect(lines((await regctl(['tag', 'ls', `${b.host}/${repo}`], home.env, [b.host])).stdout)).toEqual([
    'v1',
    'v2',
  ]);
  const skopeo = await run(
    'skopeo',
    [
      'list-tags',
      '--tls-verify=false',
      '--creds',
      `${creds.username}:${creds.password}`,
      `docker://${b.host}/${repo}`,
    ],
    { timeoutMs: 60_000 },
  );
  expect((JSON.parse(skopeo.stdout) as { Tags: string[] }).Tags.sort()).toEqual(['v1', 'v2']);
  expect(await decisions(b, 'merged')).toBeGreaterThan(merged);

  // b's own registry was not written: it still lists v1 only.
  const direct = await fetch(`${b.registry.url}/v2/${repo}/tags/list`, { headers: { authorization } });
  expect(((await direct.json()) as { tags: string[] }).tags).toEqual(['v1']);
});

test('a repository only a holds lists from b (200 instead of NAME_UNKNOWN); one neither holds stays 404', async () => {
  const repo = 'lists/only-in-a';
  await pushTo(a, repo);
  const direct = await fetch(`${b.registry.url}/v2/${repo}/tags/list`, { headers: { authorization } });
  expect(direct.status).toBe(404);

  const listed = await tagsVia(b, '', repo);
  expect(listed).toEqual({ status: 200, link: null, tags: ['v1'] });
  expect(lines((await crane(['ls', `${b.host}/${repo}`], home.env)).stdout)).toEqual(['v1']);

  const nowhere = await registryRequest(b, '/v2/lists/nowhere/tags/list', { headers: { authorization } });
  expect(nowhere.status).toBe(404);
  expect(JSON.parse(nowhere.body.toString())).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
});

test('pages (n, last, Link) walk the union of both regions in lexical order, more tags than one page', async () => {
  const repo = 'lists/paged';
  const all = Array.from({ length: 23 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  await pushTo(a, repo);
  await pushTo(b, repo);
  // b holds every third tag; a holds the rest (and v1, as b does).
  await tagIn(
    b,
    repo,
    all.filter((_, i) => i % 3 === 0),
  );
  await tagIn(
    a,
    repo,
    all.filter((_, i) => i % 3 !== 0),
  );
  const expected = [...all, 'v1'];

  const seen: string[] = [];
  let query = '?n=5';
  for (let page = 0; page < 10; page++) {
    const res = await tagsVia(b, query, repo);
    expect(res.status).toBe(200);
    expect(res.tags.length).toBeLessThanOrEqual(5);
    seen.push(...res.tags);
    if (!res.link) break;
    const next = /^<([^>]+)>; rel="next"$/.exec(res.link)?.[1];
    expect(next).toBeDefined();
    query = next!.slice(next!.indexOf('?'));
  }
  expect(seen).toEqual(expected);
  // Every tag at once, and crane (which follows Link itself) agrees.
  expect((await tagsVia(b, '', repo)).tags).toEqual(expected);
  expect(lines((await crane(['ls', `${b.host}/${repo}`], home.env)).stdout)).toEqual(expected);
});

test("without credentials the local registry's 401 passes as it is, and geosync is never asked", async () => {
  const repo = 'lists/only-in-a';
  const before = await counters(b);
  const anonymous = await registryRequest(b, `/v2/${repo}/tags/list`);
  const direct = await fetch(`${b.registry.url}/v2/${repo}/tags/list`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.status).toBe(direct.status);
  expect(anonymous.body.toString()).toBe(await direct.text());
  expect(anonymous.headers.get('www-authenticate')).toBe(direct.headers.get('www-authenticate'));
  expect((await counters(b)).extProcStreams).toBe(before.extProcStreams);
});

test('a tag deleted in a leaves b’s list once the bound has passed; one b holds stays', async () => {
  const repo = 'lists/deleted';
  await pushTo(a, repo);
  await pushTo(b, repo);
  await tagIn(a, repo, ['old']);
  expect((await tagsVia(b, '', repo)).tags).toEqual(['old', 'v1']);
  // distribution deletes a tag by removing its folder (registry/storage/tagstore.go, Untag).
  const res = await fetch(`${a.registry.url}/v2/${repo}/manifests/old`, {
    method: 'DELETE',
    headers: { authorization },
  });
  expect(res.status).toBe(202);
  // The bound (1 s by default), then one more listing of a's storage.
  await new Promise((r) => setTimeout(r, 1500));
  expect((await tagsVia(b, '', repo)).tags).toEqual(['v1']);
});
