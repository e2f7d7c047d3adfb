/**
 * Scrapes `/metrics` of a real `geosync serve` after scripted traffic and checks the decision
 * counters, the lookup histogram and the time-to-pullable histogram against the traffic sent. Region A
 * is a real registry (filesystem driver) with an image pushed by skopeo.
 */
import type { OciImage } from '../../support/oci/oci-image';
import { sum } from '../../support/prometheus';
import { startServeFixture, type ServeFixture } from '../../support/stacks/serve-fixture';
import {
  ExtProcTestClient,
  requestHeadersMessage,
  responseHeadersMessage,
} from '../../support/clients/extproc-client';

jest.setTimeout(60_000);

let fx: ServeFixture;
let image: OciImage;
let client: ExtProcTestClient;
let admin: string;

beforeAll(async () => {
  fx = await startServeFixture({ drainMs: 0, layerSizes: [1024] });
  ({ image, client, admin } = fx);
});

afterAll(() => fx?.stop());

async function pull(method: string, p: string, status: number): Promise<void> {
  const s = client.open();
  const r = await s.exchange(requestHeadersMessage({ ':method': method, ':path': p }));
  if (!r.mode_override) await s.exchange(responseHeadersMessage(status));
  s.close();
}

/** The value of one Prometheus sample whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}

test('decision counters, lookup histogram and time-to-pullable histogram count the traffic', async () => {
  const proxied = [
    '/v2/team/app/manifests/v1',
    `/v2/team/app/manifests/${image.manifestDigest}`,
    `/v2/team/app/blobs/${image.layerDigests[0]}`,
  ];
  for (const p of proxied) await pull('GET', p, 404);
  await pull('GET', '/v2/team/app/manifests/nope', 404); // not_found
  await pull('GET', '/v2/team/app/manifests/v1', 200); // pass
  await pull('HEAD', `/v2/team/app/blobs/${image.layerDigests[0]}`, 404); // ineligible
  await pull('PUT', '/v2/team/app/manifests/v1', 201); // ineligible

  const res = await fetch(`${admin}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();

  expect(
    sample(text, 'geosync_decisions_total', { geosync_outcome: 'proxied', geosync_kind: 'manifest_by_tag' }),
  ).toBe(1);
  expect(
    sample(text, 'geosync_decisions_total', {
      geosync_outcome: 'proxied',
      geosync_kind: 'manifest_by_digest',
    }),
  ).toBe(1);
  expect(sample(text, 'geosync_decisions_total', { geosync_outcome: 'proxied', geosync_kind: 'blob' })).toBe(
    1,
  );
  expect(sample(text, 'geosync_decisions_total', { geosync_outcome: 'not_found' })).toBe(1);
  expect(sample(text, 'geosync_decisions_total', { geosync_outcome: 'pass' })).toBe(1);
  expect(sample(text, 'geosync_decisions_total', { geosync_outcome: 'ineligible' })).toBe(2);
  // Every 404 of an eligible pull was looked up: 3 proxied + 1 not found.
  expect(sample(text, 'geosync_lookup_duration_seconds_count', { geosync_outcome: 'proxied' })).toBe(3);
  expect(sample(text, 'geosync_lookup_duration_seconds_count', { geosync_outcome: 'not_found' })).toBe(1);
  // Time to pullable: the first rescued GET of each manifest (by tag, by digest), for the pair
  // (a → b); a blob follows its manifest and is no pull of its own.
  const pair = { geosync_source_region: 'a', geosync_region: 'b' };
  expect(sample(text, 'geosync_time_to_pullable_seconds_count', pair)).toBe(2);
  expect(sample(text, 'geosync_unreplicated_pulls_total', { ...pair, geosync_result: 'rescued' })).toBe(2);
  expect(text).not.toContain('geosync_staleness_seconds');
  // Three pulls rescued from a, one of each kind.
  expect(sum(text, 'geosync_pulls_rescued_total', { geosync_source_region: 'a' })).toBe(3);
  for (const kind of ['manifest_by_tag', 'manifest_by_digest', 'blob']) {
    expect(
      sample(text, 'geosync_pulls_rescued_total', { geosync_source_region: 'a', geosync_kind: kind }),
    ).toBe(1);
  }
  expect(sample(text, 'geosync_extproc_messages_total', { geosync_phase: 'request_headers' })).toBe(7);
  expect(sample(text, 'geosync_extproc_messages_total', { geosync_phase: 'response_headers' })).toBe(5);
  // No repository name or digest is ever a label.
  expect(text).not.toContain('team/app');
  expect(text).not.toContain(image.layerDigests[0]?.slice(7, 20));
});
