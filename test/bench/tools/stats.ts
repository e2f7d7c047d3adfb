/**
 * Summaries of latency samples and the ratios every figure is printed with. Percentiles are
 * nearest-rank (https://en.wikipedia.org/wiki/Percentile#The_nearest-rank_method): always a
 * latency that was actually observed.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The quantiles a distribution is reported at (the chart's x axis). */
export const DISTRIBUTION_QUANTILES = [
  0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1,
] as const;

export type Distribution = readonly (readonly [quantile: number, ms: number])[];

export function sortedCopy(xs: readonly number[]): number[] {
  // A typed array sorts numerically (and fast, for a million samples).
  return Array.from(Float64Array.from(xs).sort());
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const s = sortedCopy(latenciesMs);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length,
    p50Ms: quantile(s, 0.5),
    p90Ms: quantile(s, 0.9),
    p99Ms: quantile(s, 0.99),
    maxMs: s.length ? (s[s.length - 1] as number) : NaN,
    meanMs: s.length ? sum / s.length : NaN,
  };
}

export function distribution(latenciesMs: readonly number[]): Distribution {
  const s = sortedCopy(latenciesMs);
  return DISTRIBUTION_QUANTILES.map((q) => [q, q === 0 ? (s[0] ?? NaN) : quantile(s, q)] as const);
}

/** The middle value, or the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const s = sortedCopy(xs);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** value / baseline; NaN when the baseline is 0 or missing (printed as "n/a"). */
export function ratio(value: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(value) ? value / baseline : NaN;
}

/**
 * Runs of two sides made in alternation (A B, B A, …) compared pair by pair: the median of the
 * per-pair ratios, with their range. On a shared, noisy machine this is steadier than a ratio of
 * totals: a slow minute lands on both runs of a pair.
 */
export interface PairedRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function pairedRatio(values: readonly number[], baselines: readonly number[]): PairedRatio {
  const rs = values.map((v, i) => ratio(v, baselines[i] as number)).filter(Number.isFinite);
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
}
