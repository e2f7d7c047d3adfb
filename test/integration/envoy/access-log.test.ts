/**
 * The generated access log on real Envoy: one JSON object per request, so values a client
 * controls (its x-request-id, an x-envoy-original-path it sends) stay inside their own field and
 * cannot forge the route, cluster or geosync's decision of the line.
 */
import fs from 'node:fs';
import { sleep } from '../../support/process';
import { get, startStack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';

test('a crafted request id, original path or query cannot forge fields of the access log', async () => {
  const s = await startStack({ release: 'newest' });
  try {
    const crafted = 'abc" route=fake cluster=fake geosync=proxied\\n{"route":"fake"}';
    const query = '?q="route":"fake","cluster":"fake"';
    const res = await get(`${s.url}${MANIFEST}${query}`, {
      headers: { 'x-request-id': crafted, 'x-envoy-original-path': '/v2/fake/manifests/forged' },
    });
    expect(res.status).toBe(200);
    // Envoy writes its access log in the background (a flush every second by default).
    const file = s.accessLog;
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length === 0; i++) {
      lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      if (lines.length === 0) await sleep(100);
    }
    // Every line is one whole JSON object: the crafted query's quotes are escaped.
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(entry).toMatchObject({
      method: 'GET',
      // As the client sent it (fetch percent-encodes the quotes), never the forged original path.
      path: `${MANIFEST}${new URL(`${s.url}${MANIFEST}${query}`).search}`,
      route: 'sibling_b_pull',
      cluster: 'sibling_b',
    });
    // The client is external (use_remote_address): Envoy replaced its request id with its own.
    expect(entry.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // Envoy 1.40 logs a rescued pull with the 307 it followed (`internal_redirect`), not the 200
    // the client received (envoy/README.md, access log).
    expect(entry.response_code_details).toBe('internal_redirect');
  } finally {
    await s.close();
  }
});
