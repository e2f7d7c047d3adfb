import { summarize } from '../../../src/staleness/summary';

test.each<[string, number[], [number, number | null, number | null, number | null]]>([
  ['no samples', [], [0, null, null, null]],
  ['one sample', [2.5], [1, 2.5, 2.5, 2.5]],
  ['odd count: the middle value', [3, 1, 2], [3, 2, 2, 3]],
  ['even count: the mean of the two middle values', [4, 1, 3, 2], [4, 2.5, 2.5, 4]],
  // Nearest rank: ceil(0.95 × 20) = 19th smallest of 1..20.
  ['p95 by nearest rank', Array.from({ length: 20 }, (_, i) => 20 - i), [20, 10.5, 10.5, 19]],
  ['milliseconds are kept, finer is rounded', [0.0014, 0.0016], [2, 0.002, 0.002, 0.002]],
])('%s', (_name, values, [count, avg, median, p95]) => {
  expect(summarize(values)).toEqual({ count, avgSeconds: avg, medianSeconds: median, p95Seconds: p95 });
});
