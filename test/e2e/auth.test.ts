/**
 * Auth holds in every region: htpasswd basic auth on every registry (two regions on the
 * filesystem driver; S3 adds nothing here). The redirected request carries the client's own
 * credentials to the sibling, which authorizes them again; a client without (or with wrong)
 * credentials gets the local 401 and never any content through the proxy.
 */
import path from 'node:path';
import { createOciImage, type OciImage } from '../support/oci-image';
import { skopeoPush } from '../support/skopeo';
import {
  basicAuth,
  counters,
  digestsOf,
  expectPulledImage,
  pullFrom,
  registryRequest,
  storedContent,
  useDeployment,
} from './helpers';

jest.setTimeout(120_000);

const creds = { username: 'puller', password: 'correct horse battery staple' };
let image: OciImage;
const repository = 'team/private';

const { d, a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
  auth: creds,
});
beforeAll(async () => {
  image = createOciImage(path.join(tmp.make('auth'), 'src'), { tag: 'v1', layerSizes: [5000] });
  await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds });
});

test('without credentials: 401 from B for the manifest and every blob, never content, no redirect', async () => {
  const before = await counters(b);
  const paths = [
    `/v2/${repository}/manifests/v1`,
    `/v2/${repository}/manifests/${image.manifestDigest}`,
    ...[image.configDigest, ...image.layerDigests].map((dg) => `/v2/${repository}/blobs/${dg}`),
  ];
  for (const p of paths) {
    const res = await registryRequest(b, p);
    expect(`${p} ${res.status}`).toBe(`${p} 401`);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="geosync"/);
    expect(res.headers.get('docker-content-digest')).toBeNull();
    expect(res.body.toString()).toContain('UNAUTHORIZED');
  }
  // Wrong password: the same.
  const wrong = await registryRequest(b, `/v2/${repository}/manifests/v1`, {
    headers: { authorization: basicAuth(creds.username, 'wrong') },
  });
  expect(wrong.status).toBe(401);

  // skopeo without credentials fails on the local 401.
  await expect(
    pullFrom(b, { repository, reference: 'v1' }, path.join(tmp.make('anon'), 'out')),
  ).rejects.toThrow(/unauthorized|authentication required|401/i);

  const after = await counters(b);
  expect(after.redirects).toBe(before.redirects);
  expect(after.proxied).toBe(before.proxied);
  // A 401 is not a 404: Envoy never asked geosync.
  expect(after.extProcStreams).toBe(before.extProcStreams);
});

test("with credentials: B's pull is proxied to A, which authorizes the client's own credentials", async () => {
  const before = await counters(b);
  const manifest = await registryRequest(b, `/v2/${repository}/manifests/v1`, {
    headers: { authorization: basicAuth(creds.username, creds.password) },
  });
  expect(manifest.status).toBe(200);
  expect(manifest.headers.get('docker-content-digest')).toBe(image.manifestDigest);

  const out = path.join(tmp.make('authed'), 'out');
  await pullFrom(b, { repository, reference: 'v1' }, out, { destTag: 'v1', creds });
  await expectPulledImage(out, 'v1', image);
  const after = await counters(b);
  expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(3);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});
