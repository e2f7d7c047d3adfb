/**
 * What real Envoy does with geosync's answer, on the generated bootstrap, on the newest and the
 * oldest supported release: the 307 is followed inside Envoy to the sibling route (the client sees
 * the sibling's answer), only 404s of pulls ever reach geosync, and the sibling routes are Envoy's
 * own. A scripted processor stands in for geosync so each message and reply is visible.
 */
import { ATTRIBUTE } from '../../../src/extproc/headers';
import { ENVOY_STAT, type EnvoyRelease } from '../../support/envoy/envoy';
import { content, type Handler } from '../../support/http-fakes';
import { attributesOf, headerOf } from '../../support/clients/scripted-processor';
import { get, startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';
const BLOB = `/v2/team/app/blobs/sha256:${'a'.repeat(64)}`;
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];

/** The local registry: 200 for `/hit`, 401 for `/private`, a 307 to its storage for `?stored`, else 404. */
const registry: Handler = (req, res) => {
  if (req.url.includes('/hit')) return content('local manifest')(req, res);
  if (req.url.includes('/private')) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
    return res.end();
  }
  if (req.url.endsWith('?stored')) {
    res.writeHead(307, { location: 'http://storage.example/blob?sig=1' });
    return res.end();
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
};

describe.each(RELEASES)('Envoy %s', (release) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ release, registry });
  });
  afterAll(() => s?.close());

  test("a 404 becomes geosync's 307, which Envoy follows: the client gets the sibling's 200", async () => {
    const streamsBefore = s.processor.streams.length;
    const before = await s.envoy.stat(ENVOY_STAT.redirectsFollowed);
    const res = await get(`${s.url}${MANIFEST}?n=1`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('manifest from b');
    expect(res.headers.get('docker-content-digest')).toBe('sha256:fake');
    expect(await s.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(before + 1);

    // One stream, one message: the response headers, values in raw_value, the request as attributes.
    const streams = s.processor.streams.slice(streamsBefore);
    expect(streams).toHaveLength(1);
    const [msg] = streams[0]!.messages;
    expect(streams[0]!.messages).toHaveLength(1);
    expect(msg!.request).toBe('response_headers');
    const status = msg!.response_headers?.headers?.headers.find((h) => h.key === ':status');
    expect(Buffer.from(status!.raw_value).toString()).toBe('404');
    expect(status!.value).toBe('');
    expect(attributesOf(msg!)).toMatchObject({ 'request.path': `${MANIFEST}?n=1`, 'request.method': 'GET' });
    expect(attributesOf(msg!)["request.headers['x-geosync-forwarded-by']"]).toBeUndefined();

    // The sibling got the same request target, its own Host, the original URL, the forwarded mark,
    // and not the marker that opened the sibling route.
    const at = s.sibling.requests.at(-1)!;
    expect(at.url).toBe(`${MANIFEST}?n=1`);
    expect(at.headers.host).toBe(new URL(s.siblingUrl).host);
    expect(at.headers['x-envoy-original-url']).toBe(`${s.url}${MANIFEST}?n=1`);
    expect(at.headers['x-geosync-forwarded-by']).toBe('a');
    expect(at.headers['x-geosync-redirect']).toBeUndefined();
  });

  test('the bearer token and the user agent reach geosync; Basic credentials never do', async () => {
    const [bearer, ua] = [ATTRIBUTE.bearer, ATTRIBUTE.userAgent];
    const attrsFor = async (headers: Record<string, string>) => {
      const before = s.processor.streams.length;
      await get(`${s.url}${MANIFEST}?auth=1`, { headers });
      const streams = s.processor.streams.slice(before);
      expect(streams).toHaveLength(1);
      return attributesOf(streams[0]!.messages[0]!);
    };
    const token = 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJhY2Nlc3MiOltdfQ.c2ln';
    const withToken = await attrsFor({ authorization: token, 'user-agent': 'regclient/regctl (v0.11.7)' });
    expect(withToken[bearer]).toBe(token);
    expect(withToken[ua]).toBe('regclient/regctl (v0.11.7)');
    // The client's address (the unit of fairness of geosync's lookup window) comes as ip:port.
    expect(withToken[ATTRIBUTE.sourceAddress]).toMatch(/^127\.0\.0\.1:\d+$/);
    const basic = await attrsFor({ authorization: `Basic ${Buffer.from('u:secret').toString('base64')}` });
    expect(basic[bearer]).toBe('');
    expect(JSON.stringify(basic)).not.toContain(Buffer.from('u:secret').toString('base64'));
    const none = await attrsFor({});
    expect(none[bearer]).toBeUndefined();
  });

  test('a HEAD of a manifest is redirected too and keeps the content length, without a body', async () => {
    const res = await get(`${s.url}${MANIFEST}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String('manifest from b'.length));
    expect(res.body).toBe('');
    expect(s.sibling.requests.at(-1)?.method).toBe('HEAD');
  });

  test('a Range GET of a blob reaches the sibling and its 206 reaches the client', async () => {
    const res = await get(`${s.url}${BLOB}`, { headers: { range: 'bytes=2-5' } });
    expect(res.status).toBe(206);
    expect(res.body).toBe('nife');
    expect(res.headers.get('content-range')).toBe(`bytes 2-5/${'manifest from b'.length}`);
    expect(s.sibling.requests.at(-1)?.headers.range).toBe('bytes=2-5');
  });

  test('a local 200, a 401, a blob HEAD, a push and a forwarded pull never reach geosync', async () => {
    const streamsBefore = s.processor.streams.length;
    const localBefore = await s.envoy.stat(ENVOY_STAT.upstreamRequests('local_registry'));
    expect((await get(`${s.url}/v2/team/app/manifests/hit`)).status).toBe(200);
    expect((await get(`${s.url}/v2/team/private/manifests/v1`)).status).toBe(401);
    expect((await get(`${s.url}${BLOB}`, { method: 'HEAD' })).status).toBe(404);
    expect((await get(`${s.url}${MANIFEST}`, { method: 'PUT' })).status).toBe(404);
    const forwarded = await get(`${s.url}${MANIFEST}`, { headers: { 'x-geosync-forwarded-by': 'c' } });
    expect(forwarded.status).toBe(404);
    // The 200, the 401 and the forwarded pull went through the pull cluster; the matcher skipped
    // ext_proc for each. The blob HEAD and the PUT took the catch-all route to the other cluster.
    expect(await s.envoy.stat(ENVOY_STAT.upstreamRequests('local_registry'))).toBe(localBefore + 3);
    expect(s.processor.streams.length).toBe(streamsBefore);
  });

  test("the registry's own 307 (to its storage) is not followed and never reaches geosync", async () => {
    const streamsBefore = s.processor.streams.length;
    const res = await get(`${s.url}/v2/team/app/blobs/sha256:${'b'.repeat(64)}?stored`);
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('http://storage.example/blob?sig=1');
    expect(s.processor.streams.length).toBe(streamsBefore);
  });

  test('a client that sends the sibling host, even with the marker, gets no sibling content', async () => {
    const requestsBefore = s.sibling.requests.length;
    const noRouteBefore = await s.envoy.stat(ENVOY_STAT.noRoute);
    const host = new URL(s.siblingUrl).host;
    for (const headers of [{}, { 'x-geosync-redirect': '1' }] as Record<string, string>[]) {
      const res = await rawGet(`${s.url}${MANIFEST}`, host, headers);
      expect(res).toBe(404);
    }
    expect(await s.envoy.stat(ENVOY_STAT.noRoute)).toBe(noRouteBefore + 2);
    expect(s.sibling.requests.length).toBe(requestsBefore);
  });
});

describe.each(RELEASES)('Envoy %s, a processor that does not answer as geosync does', (release) => {
  test('a mutation written to `value` instead of `raw_value` is not applied: the 404 passes', async () => {
    const s = await startStack({
      release,
      script: () => (m, st) => {
        if (m.request !== 'response_headers') return;
        st.call.write({
          response_headers: {
            response: {
              header_mutation: {
                set_headers: [
                  { header: { key: ':status', value: '307' } },
                  { header: { key: 'location', value: 'http://x/' } },
                ],
              },
            },
          },
        });
      },
    });
    try {
      const res = await get(`${s.url}${MANIFEST}`);
      expect(res.status).toBe(404);
      expect(headerOf(s.processor.streams[0]!.messages[0]!, ':status')).toBe('404');
      expect(await s.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(0);
    } finally {
      await s.close();
    }
  });

  test("the sibling's own 307 (to its storage) reaches the client unchanged", async () => {
    const s = await startStack({
      release,
      sibling: (_req, res) => {
        res.writeHead(307, { location: 'https://storage.example/sibling-blob' });
        res.end();
      },
    });
    try {
      const res = await get(`${s.url}${BLOB}`);
      expect(res.status).toBe(307);
      expect(res.headers.get('location')).toBe('https://storage.example/sibling-blob');
      expect(await s.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(1);
    } finally {
      await s.close();
    }
  });
});

/** GET with a chosen Host header (fetch does not let a caller set it). */
async function rawGet(url: string, host: string, headers: Record<string, string>): Promise<number> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { host, ...headers }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}
