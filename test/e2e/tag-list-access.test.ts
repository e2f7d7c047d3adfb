/**
 * Tag lists through b never show a client a sibling's tags that the sibling would not list to it,
 * and page completely through a sibling with more tags than one listing holds.
 *
 * Real parts: a's distribution v3 registry with htpasswd auth, b's without any (an open mirror
 * region), both on their filesystem driver; two Envoys from `geosync envoy-config`, two geosyncs.
 * b's geosync asks a's registry (through a's Envoy) with each client's own credential whether it
 * would list the repository (src/tag-list/list-access.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { REGISTRY_V2_ROOT, tagCurrentLinkKey, tagIndexLinkKey } from '../../src/storage/keys';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import type { RegionDeployment } from '../support/stacks/deployment';
import { basicAuth, registryRequest } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(240_000);

const creds = { username: 'lister', password: 'tag-list-access-secret' };
const authorization = basicAuth(creds.username, creds.password);
const { a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
  auth: creds,
  authRegions: ['a'],
});

let image: OciImage;
beforeAll(() => {
  image = createOciImage(path.join(tmp.make('image'), 'src'), { tag: 'v1', layerSizes: [1200] });
});

async function pushTo(region: RegionDeployment, repository: string): Promise<void> {
  // Only a's registry asks for credentials.
  await skopeoPush(image.dir, 'v1', { host: region.host, repository }, region.name === 'a' ? { creds } : {});
}

/** Tags a's image under `tags` in a's registry (as a push there does). */
async function tagInA(repository: string, tags: readonly string[]): Promise<void> {
  const got = await fetch(`${a.registry.url}/v2/${repository}/manifests/v1`, {
    headers: { authorization, accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = Buffer.from(await got.arrayBuffer());
  for (const tag of tags) {
    const res = await fetch(`${a.registry.url}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { authorization, 'content-type': got.headers.get('content-type') ?? '' },
      body: manifest,
    });
    expect(res.status).toBe(201);
  }
}

async function tagsVia(
  region: RegionDeployment,
  repository: string,
  query = '',
  headers: Record<string, string> = {},
) {
  const res = await registryRequest(region, `/v2/${repository}/tags/list${query}`, { headers });
  return {
    status: res.status,
    link: res.headers.get('link'),
    tags: res.status === 200 ? (JSON.parse(res.body.toString()) as { tags: string[] }).tags : [],
  };
}

describe("a sibling's tags reach only a client that sibling would list them to", () => {
  test('a repository only a holds: anonymous through b stays 404 NAME_UNKNOWN; with a credential a accepts, its tags', async () => {
    const repo = 'private/only-a';
    await pushTo(a, repo);
    await tagInA(repo, ['secret-1']);
    // a itself refuses an anonymous list.
    expect((await fetch(`${a.registry.url}/v2/${repo}/tags/list`)).status).toBe(401);

    const anonymous = await registryRequest(b, `/v2/${repo}/tags/list`);
    expect(anonymous.status).toBe(404);
    expect(JSON.parse(anonymous.body.toString())).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
    const wrong = await tagsVia(b, repo, '', { authorization: basicAuth(creds.username, 'wrong') });
    expect(wrong.status).toBe(404);

    expect(await tagsVia(b, repo, '', { authorization })).toEqual({
      status: 200,
      link: null,
      tags: ['secret-1', 'v1'],
    });
    // Anonymous again, right after an authorized client's answer was cached: still nothing of a's.
    expect((await registryRequest(b, `/v2/${repo}/tags/list`)).status).toBe(404);
  });

  test("a repository both hold: anonymous through b lists b's tags only", async () => {
    const repo = 'private/both';
    await pushTo(a, repo);
    await pushTo(b, repo);
    await tagInA(repo, ['a-private']);
    expect(await tagsVia(b, repo)).toEqual({ status: 200, link: null, tags: ['v1'] });
    // A page of it too: b's own answer, as b's registry gives it.
    const direct = await fetch(`${b.registry.url}/v2/${repo}/tags/list?n=1`);
    const paged = await tagsVia(b, repo, '?n=1');
    expect(paged).toEqual({
      status: 200,
      link: direct.headers.get('link'),
      tags: ((await direct.json()) as { tags: string[] }).tags,
    });
    expect((await tagsVia(b, repo, '', { authorization })).tags).toEqual(['a-private', 'v1']);
  });
});

test('12,000 tags in a page completely through b: each exactly once, in order, by Link', async () => {
  const repo = 'many/tags';
  await pushTo(a, repo);
  await pushTo(b, repo);
  // 12,000 tags in a's storage as distribution lays them out (what a push or replication writes),
  // written directly: folder order (`t00007-rc/` before `t00007/`) differs from the tags' order.
  const root = path.join(a.storageRoot as string, REGISTRY_V2_ROOT);
  const current = fs.readFileSync(path.join(root, tagCurrentLinkKey(repo, 'v1')), 'utf8');
  const many = Array.from({ length: 6000 }, (_, i) => `t${String(i).padStart(5, '0')}`).flatMap((t) => [
    t,
    `${t}-rc`,
  ]);
  for (const tag of many) {
    for (const key of [tagCurrentLinkKey(repo, tag), tagIndexLinkKey(repo, tag, current)]) {
      fs.mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
      fs.writeFileSync(path.join(root, key), current);
    }
  }
  const expected = [...many, 'v1'].sort();

  for (const n of [1000, 4000]) {
    const seen: string[] = [];
    let query = `?n=${n}`;
    for (let page = 0; page < 100; page++) {
      const res = await tagsVia(b, repo, query, { authorization });
      expect(res.status).toBe(200);
      expect(res.tags.length).toBeLessThanOrEqual(n);
      seen.push(...res.tags);
      if (!res.link) break;
      const next = /^<([^>]+)>; rel="next"$/.exec(res.link)?.[1] as string;
      query = next.slice(next.indexOf('?'));
    }
    expect(seen.length).toBe(expected.length);
    expect(seen).toEqual(expected);
  }
  // Without `n`, the first answer says it is partial (a Link) where a's listing stops; following it
  // (as crane, oras and regctl do) yields the rest.
  const whole = await tagsVia(b, repo, '', { authorization });
  expect(whole.link).not.toBeNull();
  expect(whole.tags.length).toBeLessThan(expected.length);
});
