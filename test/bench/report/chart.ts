/**
 * The chart of a run as one SVG file, written without a plotting library: one panel per latency
 * question, two panels a row. A `quantiles` panel plots latency (log scale) against the quantile
 * on a "number of nines" axis (p50, p90, p99, p99.9, …: x = log10(1 / (1 − q))), the usual view of
 * a latency distribution's tail; baselines are dashed in the colour of what they are compared
 * with. A `points` panel shows every sample (whole pulls) per category, with a tick at the median.
 */
import type { Panel, PointSeries, QuantileSeries } from '../results';
import { median } from '../tools/stats';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const PANEL_W = 500;
const M = { left: 58, right: 30, top: 34, bottom: 40 };
const PLOT_W = PANEL_W - M.left - M.right;
const PLOT_H = 250;
/** The legend sits under the plot: up to this many rows. */
const LEGEND_ROWS = 6;
const LEGEND_ROW_H = 14;
const PANEL_H = M.top + PLOT_H + M.bottom + LEGEND_ROWS * LEGEND_ROW_H + 10;
const QUANTILE_TICKS: readonly [number, string][] = [
  [0.5, 'p50'],
  [0.9, 'p90'],
  [0.99, 'p99'],
  [0.999, 'p99.9'],
  [0.9999, 'p99.99'],
];
const MAX_NINES = 4;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colour = (group: number) => COLOURS[group % COLOURS.length] as string;
const f = (x: number) => x.toFixed(1);

function nines(q: number): number {
  return Math.min(MAX_NINES, Math.log10(1 / (1 - Math.min(q, 0.99999))));
}

/** A log10 y axis covering `values` (ms), with ticks at powers of ten and their halves. */
function logAxis(values: readonly number[]) {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) positive.push(1, 10);
  const lo = Math.floor(Math.log10(Math.min(...positive)) * 2) / 2;
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive)) * 2) / 2) + 1e-9;
  const y = (v: number) => M.top + PLOT_H - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * PLOT_H;
  const ticks: number[] = [];
  for (let e = Math.ceil(lo); e <= hi; e++) ticks.push(10 ** e);
  if (ticks.length < 3) for (let e = Math.ceil(lo - 0.5); e + 0.5 <= hi; e++) ticks.push(3 * 10 ** e);
  return { y, ticks: ticks.filter((t) => Math.log10(t) >= lo && Math.log10(t) <= hi).sort((a, b) => a - b) };
}

function label(v: number): string {
  if (v >= 1000) return `${v / 1000} s`;
  return `${Number(v.toPrecision(2))} ms`;
}

function frame(title: string, yTicks: readonly number[], y: (v: number) => number): string[] {
  const out = [
    `<text x="${M.left}" y="20" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="14" y="${M.top + PLOT_H / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${M.top + PLOT_H / 2})">latency</text>`,
    `<rect x="${M.left}" y="${M.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`,
  ];
  for (const t of yTicks) {
    const yy = f(y(t));
    out.push(
      `<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yy}" y2="${yy}" stroke="#e4e4e4"/>`,
      `<text x="${M.left - 4}" y="${yy}" font-size="10" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`,
    );
  }
  return out;
}

/** Under the plot, in two columns when the labels are short enough, else one. */
function legend(items: readonly { label: string; group: number; dashed?: boolean }[]): string[] {
  const cols = items.every((it) => it.label.length <= 30) ? 2 : 1;
  return items.slice(0, LEGEND_ROWS * cols).map((it, i) => {
    const x = M.left + (i % cols) * 220;
    const yy = M.top + PLOT_H + M.bottom + 4 + Math.floor(i / cols) * LEGEND_ROW_H;
    const dash = it.dashed ? ' stroke-dasharray="5 3"' : '';
    return (
      `<line x1="${x}" x2="${x + 18}" y1="${yy}" y2="${yy}" stroke="${colour(it.group)}" stroke-width="2"${dash}/>` +
      `<text x="${x + 22}" y="${yy}" font-size="10" dominant-baseline="middle">${esc(it.label)}</text>`
    );
  });
}

function quantilePanel(title: string, series: readonly QuantileSeries[]): string[] {
  const points = (s: QuantileSeries) => s.distribution.filter(([q]) => q > 0 && q < 1);
  const { y, ticks } = logAxis(series.flatMap((s) => points(s).map(([, v]) => v)));
  const x = (q: number) => M.left + (nines(q) / MAX_NINES) * PLOT_W;
  const out = frame(title, ticks, y);
  for (const [q, name] of QUANTILE_TICKS) {
    const xx = f(x(q));
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${M.top}" y2="${M.top + PLOT_H}" stroke="#e4e4e4"/>`,
      `<text x="${xx}" y="${M.top + PLOT_H + 14}" font-size="10" text-anchor="middle">${name}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + PLOT_W / 2}" y="${M.top + PLOT_H + 30}" font-size="11" text-anchor="middle">quantile</text>`,
  );
  for (const s of series) {
    const d = points(s)
      .map(([q, v], i) => `${i === 0 ? 'M' : 'L'}${f(x(q))},${f(y(v))}`)
      .join(' ');
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(`<path d="${d}" fill="none" stroke="${colour(s.group)}" stroke-width="1.8"${dash}/>`);
  }
  return [...out, ...legend(series)];
}

function pointPanel(title: string, categories: readonly string[], series: readonly PointSeries[]): string[] {
  const { y, ticks } = logAxis(series.flatMap((s) => s.samples.flat()));
  const band = PLOT_W / Math.max(1, categories.length);
  const out = frame(title, ticks, y);
  // A category "16 MiB, 80 ms" is written on two lines.
  categories.forEach((c, i) => {
    const x = f(M.left + band * (i + 0.5));
    c.split(', ').forEach((line, j) => {
      out.push(
        `<text x="${x}" y="${M.top + PLOT_H + 14 + j * 12}" font-size="10" text-anchor="middle">${esc(line)}</text>`,
      );
    });
  });
  series.forEach((s, si) => {
    const offset = (si - (series.length - 1) / 2) * Math.min(16, band / (series.length + 1));
    s.samples.forEach((samples, ci) => {
      const cx = M.left + band * (ci + 0.5) + offset;
      for (const v of samples) {
        const fill = s.dashed ? 'none' : colour(s.group);
        out.push(`<circle cx="${f(cx)}" cy="${f(y(v))}" r="3" fill="${fill}" stroke="${colour(s.group)}"/>`);
      }
      if (samples.length) {
        const my = f(y(median(samples)));
        out.push(
          `<line x1="${f(cx - 6)}" x2="${f(cx + 6)}" y1="${my}" y2="${my}" stroke="${colour(s.group)}" stroke-width="2"/>`,
        );
      }
    });
  });
  return [...out, ...legend(series)];
}

export function chartSvg(panels: readonly Panel[], subtitle: string): string {
  const cols = 2;
  const rows = Math.ceil(panels.length / cols);
  const width = PANEL_W * cols;
  const height = rows * PANEL_H + 30;
  // The subtitle is cut into lines that fit the width.
  const words = subtitle.split(' ');
  const lines: string[] = [''];
  for (const w of words) {
    const last = lines.length - 1;
    if (((lines[last] as string) + w).length > 150) lines.push(w);
    else lines[last] = lines[last] ? `${lines[last]} ${w}` : w;
  }
  const body = panels.map((p, i) => {
    const inner =
      p.kind === 'quantiles' ? quantilePanel(p.title, p.series) : pointPanel(p.title, p.categories, p.series);
    const tx = (i % cols) * PANEL_W;
    const ty = 30 + Math.floor(i / cols) * PANEL_H;
    return `<g transform="translate(${tx},${ty})">\n${inner.join('\n')}\n</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...lines
      .slice(0, 2)
      .map((l, i) => `<text x="10" y="${13 + i * 13}" font-size="11" fill="#444">${esc(l)}</text>`),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
