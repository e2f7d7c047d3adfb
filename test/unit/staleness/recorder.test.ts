/**
 * The recorder between geosync's decisions, the registry's events and the ledger: which pulls and
 * which events count, as values in the report and calls to the observer (the metrics).
 */
import type { DecisionRecord } from '../../../src/decide/decision';
import { silentLogger } from '../../../src/log/logger';
import type { RegistryEvent } from '../../../src/notifications/envelope';
import { parseDigest } from '../../../src/oci/reference';
import type { PullTarget } from '../../../src/oci/pull';
import { StalenessLedger } from '../../../src/staleness/ledger';
import { MissedPulls } from '../../../src/staleness/missed-pulls';
import { OriginFinder } from '../../../src/staleness/origin';
import { StalenessRecorder, type StalenessObserver } from '../../../src/staleness/recorder';
import { manifestRevisionLinkKey } from '../../../src/storage/keys';
import type { ProbeResult } from '../../../src/storage/probe';
import { ManualClock } from '../../support/clock';
import { FakeProbe, MISSING } from '../locate/fake-probe';

const HEX = 'cd'.repeat(32);
const DIGEST = parseDigest(`sha256:${HEX}`)!;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const BY_TAG: PullTarget = { kind: 'manifest_by_tag', repository: 'team/app', tag: 'v1' };
const BY_DIGEST: PullTarget = { kind: 'manifest_by_digest', repository: 'team/app', digest: DIGEST };
const BLOB: PullTarget = { kind: 'blob', repository: 'team/app', digest: DIGEST };

function setup(
  siblingA: ProbeResult = MISSING,
  opts: { maxInFlight?: number; hang?: boolean; brokenMetric?: boolean } = {},
) {
  const clock = new ManualClock(T0);
  const bounds = { windowMs: 3_600_000, maxSamples: 1000 };
  const ledger = new StalenessLedger('b', ['a'], clock, bounds);
  const probe = new FakeProbe('a', (key) =>
    opts.hang ? 'hang' : key === manifestRevisionLinkKey('team/app', DIGEST) ? siblingA : MISSING,
  );
  const calls: string[] = [];
  const observer: StalenessObserver = {
    arrival: (s, lag) => calls.push(`arrival ${s} ${lag}`),
    originPush: () => calls.push('origin'),
    timeToPullable: (s, sec) => calls.push(`pullable ${s} ${sec}`),
    unreplicatedPulls: (s, r, n) => {
      if (opts.brokenMetric) throw new Error('broken metric');
      calls.push(`${r} ${s} ${n}`);
    },
    event: (r) => calls.push(`event ${r}`),
  };
  const recorder = new StalenessRecorder({
    ledger,
    origins: new OriginFinder([{ region: 'a', probe }], 1_000, clock),
    missed: new MissedPulls(clock, bounds),
    clock,
    log: silentLogger,
    observer,
    ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
  });
  return { clock, ledger, recorder, calls };
}

const proxied = (lastModified: number): DecisionRecord => ({
  outcome: 'proxied',
  kind: 'manifest_by_tag',
  sourceRegion: 'a',
  sourceLastModified: new Date(lastModified),
  lookupMs: 3,
});
const notFound: DecisionRecord = { outcome: 'not_found', kind: 'manifest_by_tag', lookupMs: 3 };

function pushEvent(id: string, at: number, extra: Partial<RegistryEvent['target']> = {}): RegistryEvent {
  return {
    id,
    at,
    action: 'push',
    target: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      repository: 'team/app',
      digest: `sha256:${HEX}`,
      tag: 'v1',
      ...extra,
    },
  };
}

test('a rescued manifest GET: one rescue, and its time to pullable once per manifest', () => {
  const { clock, ledger, recorder, calls } = setup();
  clock.advance(2_500);
  recorder.pullDecided(proxied(T0), 'GET', BY_TAG);
  recorder.pullDecided(proxied(T0), 'GET', BY_TAG);
  // HEADs check, blobs follow a manifest: neither is a pull of its own.
  recorder.pullDecided(proxied(T0), 'HEAD', BY_DIGEST);
  recorder.pullDecided({ ...proxied(T0), kind: 'blob' }, 'GET', BLOB);
  expect(calls).toEqual(['rescued a 1', 'pullable a 2.5', 'rescued a 1']);
  expect(ledger.report().pairs[0]).toMatchObject({
    timeToPullable: { count: 1, medianSeconds: 2.5 },
    pulls: { rescued: 2, missed: 0, rescueFraction: 1 },
  });
});

test('a manifest push that a sibling held earlier: an arrival with its lag, and the misses it explains', async () => {
  const { clock, ledger, recorder, calls } = setup({ status: 'found', lastModified: new Date(T0) });
  clock.advance(5_000);
  recorder.pullDecided(notFound, 'GET', BY_TAG); // after the push in a: missed
  recorder.pullDecided(notFound, 'GET', BY_DIGEST); // missed
  clock.advance(40_000);
  recorder.events([pushEvent('p1', T0 + 42_250)]);
  await recorder.settled();
  expect(calls).toEqual(['arrival a 42.25', 'event arrival', 'missed a 2']);
  expect(ledger.report().pairs[0]).toMatchObject({
    replicationLag: { count: 1, avgSeconds: 42.25 },
    pulls: { rescued: 0, missed: 2, rescueFraction: 0 },
  });
});

test('a manifest push no sibling held: an origin push; pulls before it were no misses', async () => {
  const { ledger, recorder, calls } = setup(MISSING);
  recorder.pullDecided(notFound, 'GET', BY_TAG);
  recorder.events([pushEvent('p1', T0 + 1_000)]);
  await recorder.settled();
  expect(calls).toEqual(['origin', 'event origin']);
  expect(ledger.report()).toMatchObject({ originPushes: 1, pairs: [{ pulls: { missed: 0 } }] });
});

test('blob pushes, pulls and deletes are ignored; too many at once are dropped, not queued', async () => {
  const { recorder, calls } = setup(MISSING, { maxInFlight: 1, hang: true });
  recorder.events([
    pushEvent('b1', T0, { mediaType: 'application/octet-stream', url: 'http://r/v2/team/app/blobs/x' }),
    { ...pushEvent('p1', T0), action: 'pull' },
    { ...pushEvent('d1', T0), action: 'delete' },
    pushEvent('m1', T0),
    pushEvent('m2', T0),
  ]);
  expect(calls).toEqual(['event ignored', 'event ignored', 'event ignored', 'event dropped']);
  // The one in flight waits on a sibling that never answers: close aborts it.
  await recorder.close();
  expect(calls.slice(4)).toEqual(['event unknown']);
});

test('a throwing observer loses its data point, never the figures', () => {
  const { clock, ledger, recorder, calls } = setup(MISSING, { brokenMetric: true });
  clock.advance(1_000);
  recorder.pullDecided(proxied(T0), 'GET', BY_TAG);
  expect(ledger.report().pairs[0]?.pulls.rescued).toBe(1);
  expect(calls).toEqual(['pullable a 1']);
});
