import { formatStalenessTable } from '../../../src/staleness/table';

test('one row per pair, times in seconds, dashes where there are no samples', () => {
  const empty = { count: 0, avgSeconds: null, medianSeconds: null, p95Seconds: null };
  const text = formatStalenessTable({
    region: 'b',
    windowSeconds: 3600,
    generatedAt: '2026-01-01T00:00:00.000Z',
    originPushes: 2,
    pairs: [
      {
        sourceRegion: 'a',
        region: 'b',
        replicationLag: { count: 3, avgSeconds: 41.5, medianSeconds: 40, p95Seconds: 61.25 },
        timeToPullable: { count: 1, avgSeconds: 0.5, medianSeconds: 0.5, p95Seconds: 0.5 },
        pulls: { rescued: 3, missed: 1, rescueFraction: 0.75 },
      },
      {
        sourceRegion: 'c',
        region: 'b',
        replicationLag: empty,
        timeToPullable: empty,
        pulls: { rescued: 0, missed: 0, rescueFraction: null },
      },
    ],
  });
  expect(text.split('\n')).toEqual([
    'staleness of region b over the last 3600 s (at 2026-01-01T00:00:00.000Z); times in seconds; origin pushes here: 2',
    'source → region  arrivals  lag avg  lag median  lag p95  first pulls  pullable avg  pullable median  pullable p95  rescued  missed  rescue fraction',
    'a → b                   3   41.500      40.000   61.250            1         0.500            0.500         0.500        3       1           75.0 %',
    'c → b                   0        -           -        -            0             -                -             -        0       0                -',
    '',
  ]);
});
