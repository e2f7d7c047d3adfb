/**
 * The acceptance test: a real distribution registry on the filesystem driver is region A,
 * an image is pushed to it with skopeo, and `geosync serve` (a real process) for region B answers
 * an Envoy-like ext_proc client with a 307 for a 404 pull of that content, and a plain CONTINUE
 * for everything it must leave alone. SIGTERM drains, then exits 0.
 *
 * The lookup deadline and the drain are generous: these tests are about what geosync answers, and
 * a loaded machine must not turn a 307 into a timeout. Client-side waits are bounds for a hung
 * process only.
 */
import type { OciImage } from '../../support/oci/oci-image';
import type { Registry } from '../../support/registries/registry';
import { startServeFixture, type ServeFixture } from '../../support/stacks/serve-fixture';
import {
  ExtProcTestClient,
  requestHeadersMessage,
  responseHeadersMessage,
  setHeaders,
} from '../../support/clients/extproc-client';
import { waitForStatus, type ServeProcess } from '../../support/clients/geosync-cli';

jest.setTimeout(120_000);

const LOOKUP_TIMEOUT_MS = 2_000;
const DRAIN_MS = 3_000;
/** Longer than any lookup: the reply always comes from geosync, never from the client giving up. */
const REPLY_WAIT_MS = 30_000;

let fx: ServeFixture;
let registryA: Registry;
let image: OciImage;
let serve: ServeProcess;
let client: ExtProcTestClient;
let admin: string;

beforeAll(async () => {
  fx = await startServeFixture({
    drainMs: DRAIN_MS,
    layerSizes: [2048, 8192],
    silentRegion: true,
    lookupTimeoutMs: LOOKUP_TIMEOUT_MS,
  });
  ({ registryA, image, serve, client, admin } = fx);
});

afterAll(() => fx?.stop());

/**
 * One request as Envoy drives it. An ineligible request is answered at its request headers with
 * CONTINUE + mode_override SKIP, and geosync ends the stream: Envoy sends no response headers.
 */
async function decide(method: string, p: string, status: number, extra: Record<string, string> = {}) {
  const s = client.open();
  const r1 = await s.exchange(
    requestHeadersMessage({ ':method': method, ':path': p, ...extra }),
    REPLY_WAIT_MS,
  );
  const skip = r1.mode_override?.response_header_mode === 'SKIP';
  const set = skip
    ? setHeaders(r1)
    : setHeaders(await s.exchange(responseHeadersMessage(status), REPLY_WAIT_MS));
  await s.status;
  s.close();
  return { skip, set };
}

/** geosync B's decisions with `outcome`, from its Prometheus endpoint. */
async function decisionCount(outcome: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('geosync_decisions_total{') && l.includes(`geosync_outcome="${outcome}"`))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe('geosync serve against a real registry (filesystem driver) in region A', () => {
  test('404 GET of the pushed manifest by tag → 307 to region A', async () => {
    const p = '/v2/team/app/manifests/v1';
    expect((await decide('GET', p, 404)).set).toEqual({
      ':status': '307',
      location: `${registryA.url}${p}`,
      'x-geosync-redirect': '1',
    });
  });

  test('the same for the manifest by digest and for each layer blob', async () => {
    const manifest = `/v2/team/app/manifests/${image.manifestDigest}`;
    expect((await decide('HEAD', manifest, 404)).set.location).toBe(`${registryA.url}${manifest}`);
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      const blob = `/v2/team/app/blobs/${digest}`;
      expect((await decide('GET', blob, 404)).set).toEqual({
        ':status': '307',
        location: `${registryA.url}${blob}`,
        'x-geosync-redirect': '1',
      });
    }
  });

  test('the redirect target really serves the content', async () => {
    const res = await fetch(`${registryA.url}/v2/team/app/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(image.manifestDigest);
  });

  const INELIGIBLE = new Set([
    'a 404 blob HEAD',
    'a PUT',
    'an over-long path',
    'a path with %2e%2e',
    'x-geosync-forwarded-by',
  ]);
  // Paths are functions: the image's digests exist only once beforeAll has pushed it.
  test.each<[string, string, () => string, number, Record<string, string>]>([
    ['a 404 blob HEAD', 'HEAD', () => `/v2/team/app/blobs/${image.layerDigests[0]}`, 404, {}],
    ['a 200', 'GET', () => '/v2/team/app/manifests/v1', 200, {}],
    ['a PUT', 'PUT', () => '/v2/team/app/manifests/v1', 404, {}],
    ['an over-long path', 'GET', () => `/v2/${'x/'.repeat(1200)}manifests/v1`, 404, {}],
    ['a path with %2e%2e', 'GET', () => '/v2/team/%2e%2e/app/manifests/v1', 404, {}],
    [
      'x-geosync-forwarded-by',
      'GET',
      () => '/v2/team/app/manifests/v1',
      404,
      { 'x-geosync-forwarded-by': 'a' },
    ],
    ['a tag that exists nowhere', 'GET', () => '/v2/team/app/manifests/nope', 404, {}],
    [
      'a blob only another repository has',
      'GET',
      () => `/v2/other/app/blobs/${image.layerDigests[0]}`,
      404,
      {},
    ],
  ])('plain CONTINUE for %s', async (name, method, p, status, extra) => {
    const answer = await decide(method, p(), status, extra);
    expect(answer.set).toEqual({});
    // Ineligible requests are settled at their request headers (no response round trip).
    expect(answer.skip).toBe(INELIGIBLE.has(name));
  });

  test("a lookup that cannot finish (region c's storage never answers) → plain CONTINUE at the deadline", async () => {
    const before = await decisionCount('timeout');
    expect((await decide('GET', '/v2/team/app/manifests/only-c-could-say', 404)).set).toEqual({});
    expect(await decisionCount('timeout')).toBe(before + 1);
  });

  test('SIGTERM: /readyz turns 503 at once, open streams are answered, exit 0 after the drain', async () => {
    const s = client.open();
    await s.exchange(
      requestHeadersMessage({ ':method': 'GET', ':path': '/v2/team/app/manifests/v1' }),
      REPLY_WAIT_MS,
    );
    serve.child.kill('SIGTERM');
    // Within the drain: the bound only ends a test whose geosync never turns NOT_SERVING.
    await waitForStatus(`${admin}/readyz`, 503, DRAIN_MS);
    expect(setHeaders(await s.exchange(responseHeadersMessage(404), REPLY_WAIT_MS))[':status']).toBe('307');
    s.close();
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain('"msg":"stopped"');
  });
});
