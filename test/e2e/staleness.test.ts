/**
 * The published staleness figures, end to end, on real registries whose notifications go to their
 * region's geosync and to a sink that records every event (what the region's webhooks see):
 * an image pushed to A is pulled from B at once (rescued through geosync, and B's webhooks see no
 * push), then the reference replicator (deploy/replication/replicate.sh, skopeo sync through B's
 * registry API) brings it: B's webhooks see exactly one manifest push, after the pull, and B's
 * `/staleness` reports one arrival from A with the lag the two registries' own events measure, and
 * one rescued pull.
 *
 * Absence of an event is asserted after a barrier: distribution delivers an endpoint's events in
 * order, so once the sink has the push of a marker image made afterwards, every earlier event has
 * been delivered.
 */
import path from 'node:path';
import { runCli } from '../support/clients/geosync-cli';
import { isManifestPush, type SinkEvent } from '../support/stacks/notification-sink';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { runReplicator } from '../support/stacks/replicator';
import { skopeoPush } from '../support/clients/skopeo';
import type { StalenessReport } from '../../src/staleness/report';
import { parseTimestamp } from '../../src/notifications/envelope';
import type { RegionDeployment } from '../support/stacks/deployment';
import { digestsOf, expectPulledImage } from '../support/oci/layouts';
import { geosyncMetrics, pullFrom, sampleSum, waitUntil } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(180_000);

/**
 * geosync dates the origin by the revision link's LastModified in A's storage (filesystem: the
 * file's mtime); the measured lag uses A's own push event, which distribution stamps just after
 * writing that link. The two differ by that gap: milliseconds, tens of them on a loaded machine.
 */
const LAG_TOLERANCE_SECONDS = 0.25;
const EVENT_TIMEOUT_MS = 20_000;

let markers = 0;

const { d, a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
  notifications: true,
});

function sinkOf(region: RegionDeployment) {
  if (!region.sink) throw new Error(`region ${region.name} has no notification sink`);
  return region.sink;
}

async function onePush(region: RegionDeployment, repository: string): Promise<SinkEvent> {
  const [event] = await sinkOf(region).waitFor((e) => isManifestPush(e, repository), 1, EVENT_TIMEOUT_MS);
  return event as SinkEvent;
}

/** Pushes a fresh image to `region` and waits for its event: every earlier event was delivered. */
async function barrier(region: RegionDeployment): Promise<void> {
  const repository = `barrier/m${++markers}`;
  const image = createOciImage(tmp.make('marker'), { tag: 'm', layerSizes: [512] });
  await skopeoPush(image.dir, 'm', { host: region.registry.host, repository });
  await onePush(region, repository);
}

async function staleness(region: RegionDeployment): Promise<StalenessReport> {
  const res = await fetch(`${region.adminUrl}/staleness`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return (await res.json()) as StalenessReport;
}

function pair(report: StalenessReport, source: string) {
  const p = report.pairs.find((x) => x.sourceRegion === source);
  if (!p) throw new Error(`no pair ${source} → ${report.region}: ${JSON.stringify(report)}`);
  return p;
}

const eventTime = (e: SinkEvent) => parseTimestamp(e.timestamp) as number;

describe('replication through the registry API, measured from the registries own notifications', () => {
  const repository = 'team/app';
  let image: OciImage;
  let aPush: SinkEvent;
  let pulledAt: number;

  test('a pull from B right after the push to A is rescued, and B’s webhooks see no push', async () => {
    const dir = tmp.make('staleness');
    image = createOciImage(path.join(dir, 'src'), { tag: 'v1', layerSizes: [4096, 20_000] });
    await skopeoPush(image.dir, 'v1', { host: a.host, repository });
    aPush = await onePush(a, repository);

    await pullFrom(b, { repository, reference: 'v1' }, path.join(dir, 'pulled'), { destTag: 'v1' });
    pulledAt = Date.now();
    await expectPulledImage(path.join(dir, 'pulled'), 'v1', image);
    expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
      repositoryKeys: [],
      blobKeys: [],
    });

    await barrier(b);
    // Not a push, not a pull, nothing: B's registry only answered 404; A's served the content.
    expect(
      sinkOf(b)
        .events()
        .filter((e) => e.target.repository === repository),
    ).toEqual([]);
    await sinkOf(a).waitFor(
      (e) =>
        e.action === 'pull' && e.target.repository === repository && !!e.target.url?.includes('/manifests/'),
      1,
      EVENT_TIMEOUT_MS,
    );
  });

  test('the replicator brings it to B: exactly one manifest push there, after the pull; a re-run adds none', async () => {
    const output = await runReplicator(a.host, b.registry.host);
    expect(output).toContain(`docker://${b.registry.host}/${repository}:v1`);
    const bPush = await onePush(b, repository);
    expect(bPush.target.digest).toBe(image.manifestDigest);
    expect(bPush.receivedAt).toBeGreaterThan(pulledAt);
    expect(eventTime(bPush)).toBeGreaterThan(eventTime(aPush));

    expect(await runReplicator(a.host, b.registry.host)).toContain('Skipping: image already present');
    await barrier(b);
    expect(
      sinkOf(b)
        .events()
        .filter((e) => isManifestPush(e, repository)),
    ).toHaveLength(1);
  });

  test('B’s /staleness: one arrival from A with the measured lag, one rescued pull; A’s: one origin push', async () => {
    const [bPush] = sinkOf(b)
      .events()
      .filter((e) => isManifestPush(e, repository));
    const measuredLag = (eventTime(bPush as SinkEvent) - eventTime(aPush)) / 1000;

    // geosync gets each event on its own endpoint queue and works out origins afterwards: wait for
    // the arrival and for every marker push made in B.
    await waitUntil(
      "B's report has the arrival and the markers",
      async () => {
        const r = await staleness(b);
        return pair(r, 'a').replicationLag.count > 0 && r.originPushes >= markers;
      },
      EVENT_TIMEOUT_MS,
    );
    const report = await staleness(b);
    const ab = pair(report, 'a');
    expect(ab.replicationLag.count).toBe(1);
    expect(Math.abs((ab.replicationLag.avgSeconds as number) - measuredLag)).toBeLessThanOrEqual(
      LAG_TOLERANCE_SECONDS,
    );
    expect(ab.replicationLag.medianSeconds).toBe(ab.replicationLag.avgSeconds);
    expect(ab.pulls).toEqual({ rescued: 1, missed: 0, rescueFraction: 1 });
    // Pullable here when the rescued pull was served: after A's push, no later than the pull ended.
    expect(ab.timeToPullable.count).toBe(1);
    expect(ab.timeToPullable.avgSeconds).toBeGreaterThanOrEqual(0);
    expect(ab.timeToPullable.avgSeconds).toBeLessThanOrEqual(
      (pulledAt - eventTime(aPush)) / 1000 + LAG_TOLERANCE_SECONDS,
    );
    // The barrier images started in B.
    expect(report.originPushes).toBe(markers);
    expect(JSON.stringify(report)).not.toContain(repository);

    await waitUntil(
      'A reports its push',
      async () => (await staleness(a)).originPushes > 0,
      EVENT_TIMEOUT_MS,
    );
    const aReport = await staleness(a);
    expect(aReport.originPushes).toBe(1);
    expect(pair(aReport, 'b').replicationLag.count).toBe(0);

    const metrics = await geosyncMetrics(b);
    const labels = { geosync_source_region: 'a', geosync_region: 'b' };
    expect(sampleSum(metrics, 'geosync_replication_lag_seconds_count', labels)).toBe(1);
    expect(sampleSum(metrics, 'geosync_replication_arrivals_total', labels)).toBe(1);
    expect(sampleSum(metrics, 'geosync_time_to_pullable_seconds_count', labels)).toBe(1);
    expect(
      sampleSum(metrics, 'geosync_unreplicated_pulls_total', { ...labels, geosync_result: 'rescued' }),
    ).toBe(1);
    expect(
      sampleSum(metrics, 'geosync_notifications_requests_total', { geosync_result: 'accepted' }),
    ).toBeGreaterThan(0);
    expect(
      sampleSum(metrics, 'geosync_notifications_requests_total', { geosync_result: 'unauthorized' }),
    ).toBe(0);
  });

  test('geosync staleness --admin prints the table with the A → B row', async () => {
    const run = await runCli(['staleness', '--admin', b.adminUrl]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const row = run.stdout.split('\n').find((l) => l.startsWith('a → b'));
    const ab = pair(await staleness(b), 'a');
    expect(row?.split(/\s{2,}/)).toEqual([
      'a → b',
      '1',
      ...[ab.replicationLag.avgSeconds, ab.replicationLag.medianSeconds, ab.replicationLag.p95Seconds].map(
        (v) => (v as number).toFixed(3),
      ),
      '1',
      ...[ab.timeToPullable.avgSeconds, ab.timeToPullable.medianSeconds, ab.timeToPullable.p95Seconds].map(
        (v) => (v as number).toFixed(3),
      ),
      '1',
      '0',
      '100.0 %',
    ]);
  });
});

test('a replicator that writes through B’s Envoy copies nothing: geosync answers its check from A', async () => {
  const repository = 'team/through-envoy';
  const image = createOciImage(tmp.make('envoy-dest'), { tag: 'v1', layerSizes: [2048] });
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  await onePush(a, repository);

  expect(await runReplicator(a.host, b.host, [repository])).toContain('Skipping: image already present');
  await barrier(b);
  expect(
    sinkOf(b)
      .events()
      .filter((e) => isManifestPush(e, repository)),
  ).toEqual([]);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });

  // To the registry itself, as deploy/ ships it: copied, and B's webhooks fire.
  await runReplicator(a.host, b.registry.host, [repository]);
  expect((await onePush(b, repository)).target.digest).toBe(image.manifestDigest);
});
