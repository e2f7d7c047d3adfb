/**
 * Failures, in three regions on Swift S3 with geosync's registry health checks on and every other
 * setting at geosync's default: geosync itself down (fail open: the plain 404, without waiting for
 * Envoy's message timeout), a sibling's storage endpoint down (the lookup still answers within its
 * deadline, from another holder), a sibling's storage slow (the 404 comes at geosync's lookup
 * deadline, not when storage answers), and a sibling's registry down while its storage still
 * answers (that sibling is not chosen once the health check has noticed).
 *
 * Each scenario pulls from a region whose view of the broken sibling no earlier scenario touched,
 * so a circuit breaker opened by one scenario cannot make the next one pass for the wrong reason.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { ENVOY_STAT } from '../support/envoy/envoy';
import { MESSAGE_TIMEOUT_MS } from '../../src/config/sections/envoy';
import { digestsOf, expectPulledImage } from '../support/oci/layouts';
import {
  counters,
  decisions,
  geosyncMetrics,
  lookupDurations,
  pullFrom,
  registryRequest,
  rescuedFrom,
  sampleSum,
  waitUntil,
} from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(120_000);

const { d, a, b, c, tmp } = useDeployment({
  regions: ['a', 'b', 'c'],
  storage: 's3',
  healthCheck: true,
});

/**
 * One-way delay of a storage that is slow, not down: far beyond geosync's longest lookup deadline
 * (lookupTimeoutMaxMs, 2 s by default) and beyond Envoy's ext_proc message_timeout (20 s).
 */
const SLOW_STORAGE_ONE_WAY_MS = 30_000;

/** A client's wait that a 404 made by Envoy's message_timeout (its default) would outlast. */
const UNDER_MESSAGE_TIMEOUT_MS = MESSAGE_TIMEOUT_MS / 2;

function sha256(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

test("geosync of B stopped: pulls from B get the registry's plain 404 at once (a refused connection, no message timeout), then recover", async () => {
  const dir = tmp.make('fail-open');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/fail-open';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });

  const allowed = () => b.envoy.stat(ENVOY_STAT.extProc('failure_mode_allowed'));
  const allowedBefore = await allowed();
  const timeouts = () => b.envoy.stat(ENVOY_STAT.extProc('message_timeouts'));
  const timeoutsBefore = await timeouts();
  const redirectsBefore = await b.envoy.stat(ENVOY_STAT.redirectsFollowed);
  await b.stopGeosync();
  try {
    // Envoy cannot reach geosync: failure_mode_allow lets the registry's own 404 through as soon
    // as the connection is refused. Each request gives up well before Envoy's message_timeout
    // (envoy.extProc.messageTimeoutMs, 20 s): a 404 that waited for it would fail here, and
    // Envoy counts none below.
    const manifest = await registryRequest(b, `/v2/${repository}/manifests/v1`, {
      timeoutMs: UNDER_MESSAGE_TIMEOUT_MS,
    });
    expect(manifest.status).toBe(404);
    expect(manifest.body.toString()).toContain('MANIFEST_UNKNOWN');
    const blob = await registryRequest(b, `/v2/${repository}/blobs/${image.layerDigests[0]}`, {
      timeoutMs: UNDER_MESSAGE_TIMEOUT_MS,
    });
    expect(blob.status).toBe(404);
    expect(await allowed()).toBe(allowedBefore + 2);
    expect(await timeouts()).toBe(timeoutsBefore);

    // A real client fails with the registry's answer (no hang, no retry loop).
    const pull = await pullFrom(b, { repository, reference: 'v1' }, path.join(dir, 'failed'), {
      timeoutMs: 20_000,
    }).then(
      () => 'pulled',
      (err: Error) => err.message,
    );
    expect(pull).toMatch(/manifest unknown/i);
    expect(await allowed()).toBeGreaterThan(allowedBefore + 2);
    expect(await b.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(redirectsBefore);
    expect(await timeouts()).toBe(timeoutsBefore);
  } finally {
    await b.startGeosync();
  }

  // Back: the next request opens a new connection to the restarted geosync.
  await waitUntil(
    'B proxies again after geosync restarted',
    async () => (await registryRequest(b, `/v2/${repository}/manifests/v1`)).status === 200,
    15_000,
  );
  const out = path.join(dir, 'pulled');
  await pullFrom(b, { repository, reference: 'v1' }, out, { destTag: 'v1' });
  await expectPulledImage(out, 'v1', image);
});

test("A's S3 endpoint down: B answers within the deadline, proxying from C", async () => {
  const dir = tmp.make('s3-down');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1', layerSizes: [3000, 70_000] });
  const repository = 'team/s3-down';
  // A (B's preferred sibling) and C both hold the image.
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  await skopeoPush(image.dir, 'v1', { host: c.host, repository });

  const before = await counters(b);
  await a.s3Proxy!.pause();
  try {
    // A refused connection is an answer: C's "found" decides without waiting for A's deadline.
    const manifest = await registryRequest(b, `/v2/${repository}/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(sha256(manifest.body)).toBe(image.manifestDigest);

    const out = path.join(dir, 'pulled');
    await pullFrom(b, { repository, reference: 'v1' }, out, { destTag: 'v1', timeoutMs: 30_000 });
    await expectPulledImage(out, 'v1', image);
  } finally {
    await a.s3Proxy!.resume();
  }
  const after = await counters(b);
  expect(lookupDurations(after.metrics, 'timeout').count).toBe(
    lookupDurations(before.metrics, 'timeout').count,
  );
  // Manifest (twice), config, two layers: all from C, none from A.
  expect(rescuedFrom(after.metrics, 'c') - rescuedFrom(before.metrics, 'c')).toBeGreaterThanOrEqual(4);
  expect(rescuedFrom(after.metrics, 'a')).toBe(rescuedFrom(before.metrics, 'a'));
  const probesOfA = (m: string, result: string) =>
    sampleSum(m, 'geosync_probes_total', { geosync_region: 'a', geosync_result: result });
  const probedA =
    sampleSum(after.metrics, 'geosync_probes_total', { geosync_region: 'a' }) -
    sampleSum(before.metrics, 'geosync_probes_total', { geosync_region: 'a' });
  expect(probedA).toBeGreaterThan(0);
  // A was asked (or skipped once its breaker opened) but never answered "found".
  expect(probesOfA(after.metrics, 'found')).toBe(probesOfA(before.metrics, 'found'));
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});

test("C's storage slow (it accepts and answers only after a minute): A's client gets its 404 at geosync's lookup deadline, not at storage's pace", async () => {
  const dir = tmp.make('slow-storage');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/slow-storage';
  // Only C holds the image: A's lookup hears "not found" from B and nothing from C.
  await skopeoPush(image.dir, 'v1', { host: c.host, repository });
  const stat = (name: string) => a.envoy.stat(ENVOY_STAT.extProc(name));
  const [timeoutsBefore, allowedBefore, decidedBefore] = [
    await stat('message_timeouts'),
    await stat('failure_mode_allowed'),
    await decisions(a, 'timeout'),
  ];
  c.s3Proxy!.setDelayMs(SLOW_STORAGE_ONE_WAY_MS);
  try {
    // The client gives up sooner than C's storage could answer (a round trip is twice the delay),
    // and later than Envoy's message_timeout would fail open: a 404 within this wait that Envoy
    // did not make itself (counted below) is geosync's own, at its lookup deadline.
    const res = await registryRequest(a, `/v2/${repository}/manifests/v1`, {
      timeoutMs: SLOW_STORAGE_ONE_WAY_MS,
    });
    expect(res.status).toBe(404);
    expect(res.body.toString()).toContain('MANIFEST_UNKNOWN');
  } finally {
    c.s3Proxy!.setDelayMs(0);
  }
  expect(await decisions(a, 'timeout')).toBe(decidedBefore + 1);
  expect([await stat('message_timeouts'), await stat('failure_mode_allowed')]).toEqual([
    timeoutsBefore,
    allowedBefore,
  ]);
});

test("A's registry down, its storage up: C's geosync does not choose A once the health check noticed", async () => {
  const dir = tmp.make('registry-down');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'v1' });
  const repository = 'team/registry-down';
  // A (C's preferred sibling) and B both hold the image.
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  await skopeoPush(image.dir, 'v1', { host: b.host, repository });

  await a.registry.stop();
  // A's storage still has everything: without the health check C would redirect to A's Envoy,
  // which has no registry behind it any more.
  expect((await storedContent(d, a, repository, digestsOf(image))).blobKeys).toHaveLength(
    digestsOf(image).length,
  );

  const skippedUnhealthy = async () =>
    sampleSum(await geosyncMetrics(c), 'geosync_probes_total', {
      geosync_region: 'a',
      geosync_result: 'skipped_unhealthy',
    });
  const skippedBefore = await skippedUnhealthy();
  let probe = 0;
  await waitUntil(
    "C's health check marks A down",
    async () => {
      // A lookup (of a tag that exists nowhere) shows whether A is still asked.
      await registryRequest(c, `/v2/${repository}/manifests/health-probe-${probe++}`);
      return (await skippedUnhealthy()) > skippedBefore;
    },
    10_000,
  );

  const before = await counters(c);
  const out = path.join(dir, 'pulled');
  await pullFrom(c, { repository, reference: 'v1' }, out, { destTag: 'v1' });
  await expectPulledImage(out, 'v1', image);
  const after = await counters(c);
  expect(rescuedFrom(after.metrics, 'b') - rescuedFrom(before.metrics, 'b')).toBeGreaterThanOrEqual(4);
  expect(rescuedFrom(after.metrics, 'a')).toBe(rescuedFrom(before.metrics, 'a'));
});
