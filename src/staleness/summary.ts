/**
 * The figures the report publishes for one series: count, average, median and 95th percentile,
 * in seconds. Median of an even count: the mean of the two middle values. p95: nearest rank (the
 * smallest value with at least 95 % of the samples at or below it). No samples: nulls.
 */

export interface Summary {
  readonly count: number;
  readonly avgSeconds: number | null;
  readonly medianSeconds: number | null;
  readonly p95Seconds: number | null;
}

export function summarize(seconds: readonly number[]): Summary {
  const n = seconds.length;
  if (n === 0) return { count: 0, avgSeconds: null, medianSeconds: null, p95Seconds: null };
  const sorted = [...seconds].sort((a, b) => a - b);
  const at = (i: number) => sorted[i] as number;
  const sum = sorted.reduce((s, v) => s + v, 0);
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return {
    count: n,
    avgSeconds: round(sum / n),
    medianSeconds: round(median),
    p95Seconds: round(at(Math.ceil(0.95 * n) - 1)),
  };
}

/** Milliseconds are the finest resolution any input has. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
