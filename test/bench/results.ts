/**
 * What every part of the benchmark hands back: one table in which each figure stands beside its
 * baseline and their ratio, the targets of issue 14 with whether this run met them, the raw
 * numbers (for the JSON), and optionally a panel of the chart. Also the number formats all tables
 * share.
 */
import type { Distribution } from './tools/stats';

export interface Target {
  readonly text: string;
  /** undefined: this run could not tell (say why in `note`). */
  readonly met: boolean | undefined;
  readonly note?: string;
}

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Latency at each quantile, one line of a chart panel. `dashed`: a baseline. */
export interface QuantileSeries {
  readonly label: string;
  readonly distribution: Distribution;
  readonly group: number;
  readonly dashed?: boolean;
}

/** Samples per category (a few whole pulls), one colour per series. */
export interface PointSeries {
  readonly label: string;
  readonly group: number;
  readonly dashed?: boolean;
  /** Samples (ms) per category, in the order of the panel's categories. */
  readonly samples: readonly (readonly number[])[];
}

export type Panel =
  | { readonly kind: 'quantiles'; readonly title: string; readonly series: readonly QuantileSeries[] }
  | {
      readonly kind: 'points';
      readonly title: string;
      readonly categories: readonly string[];
      readonly series: readonly PointSeries[];
    };

export interface PartResult {
  readonly part: number;
  readonly title: string;
  /** What ran, in a few sentences of Markdown. */
  readonly method: string;
  readonly table: Table;
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
  readonly data: unknown;
  readonly panels: readonly Panel[];
  readonly seconds: number;
}

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly envoy: string;
  readonly vegeta: string;
  readonly kernel: string;
  /** 1-minute load average when the run started and when it ended (the machine is shared). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface BenchRun {
  readonly date: string;
  readonly scale: string;
  readonly machine: Machine;
  readonly totalSeconds: number;
  readonly parts: readonly PartResult[];
}

// ---------------------------------------------------------------------------------------------
// Number formats shared by every table

/** 3 significant digits, no exponent: 0.412, 12.3, 4570. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toString();
  return Number(x.toPrecision(3)).toString();
}

export function ms(x: number): string {
  return Number.isFinite(x) ? `${num(x)} ms` : 'n/a';
}

export function seconds(msValue: number): string {
  return Number.isFinite(msValue) ? `${num(msValue / 1000)} s` : 'n/a';
}

/** A ratio to its baseline: "0.98×". */
export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

/** A paired ratio with its range: "0.98× (0.91–1.04)". */
export function timesRange(r: { median: number; min: number; max: number }): string {
  return Number.isFinite(r.median) ? `${times(r.median)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : 'n/a';
}

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${num(v)} ${units[i]}`;
}

export function met(t: Target): string {
  if (t.met === undefined) return 'not determined';
  return t.met ? 'met' : 'MISSED';
}
