import { StalenessLedger } from '../../../src/staleness/ledger';
import { ManualClock } from '../../support/clock';

const EMPTY = { count: 0, avgSeconds: null, medianSeconds: null, p95Seconds: null };

function ledger() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  return { clock, l: new StalenessLedger('b', ['a', 'c'], clock, { windowMs: 600_000, maxSamples: 1000 }) };
}

test('an empty report lists every sibling pair, with no figures', () => {
  const { l } = ledger();
  expect(l.report()).toEqual({
    region: 'b',
    windowSeconds: 600,
    generatedAt: '2026-01-01T00:00:00.000Z',
    originPushes: 0,
    pairs: ['a', 'c'].map((sourceRegion) => ({
      sourceRegion,
      region: 'b',
      replicationLag: EMPTY,
      timeToPullable: EMPTY,
      pulls: { rescued: 0, missed: 0, rescueFraction: null },
    })),
  });
});

test('figures per pair: lag, time to pullable of first rescues, rescue fraction', () => {
  const { l } = ledger();
  l.arrival('a', 30);
  l.arrival('a', 10);
  l.arrival('c', 90);
  l.originPush();
  expect(l.rescued('a', 'team/app:v1', 2)).toBe(true);
  // The same manifest again: a rescued pull, but it was already pullable.
  expect(l.rescued('a', 'team/app:v1', 9)).toBe(false);
  expect(l.rescued('a', 'team/app:v2', 4)).toBe(true);
  l.missed('a', 1);
  const [a, c] = l.report().pairs;
  expect(a).toEqual({
    sourceRegion: 'a',
    region: 'b',
    replicationLag: { count: 2, avgSeconds: 20, medianSeconds: 20, p95Seconds: 30 },
    timeToPullable: { count: 2, avgSeconds: 3, medianSeconds: 3, p95Seconds: 4 },
    pulls: { rescued: 3, missed: 1, rescueFraction: 0.75 },
  });
  expect(c?.replicationLag).toEqual({ count: 1, avgSeconds: 90, medianSeconds: 90, p95Seconds: 90 });
  expect(l.report().originPushes).toBe(1);
});

test('a region that is no sibling is not a pair', () => {
  const { l } = ledger();
  l.arrival('z', 5);
  expect(l.rescued('z', 'k', 1)).toBe(false);
  expect(l.report().pairs.map((p) => p.sourceRegion)).toEqual(['a', 'c']);
});

test('everything older than the window leaves the report', () => {
  const { l, clock } = ledger();
  l.arrival('a', 30);
  l.originPush();
  l.rescued('a', 'team/app:v1', 2);
  clock.advance(600_000);
  const report = l.report();
  expect(report.originPushes).toBe(0);
  expect(report.pairs[0]).toMatchObject({
    replicationLag: EMPTY,
    timeToPullable: EMPTY,
    pulls: { rescued: 0, missed: 0, rescueFraction: null },
  });
  // A new window: the manifest's next rescue dates it again.
  expect(l.rescued('a', 'team/app:v1', 700)).toBe(true);
});
