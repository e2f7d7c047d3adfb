/** The staleness report as a text table (`geosync staleness`, the demo). Pure: report in, text out. */
import type { StalenessReport } from './report';
import type { Summary } from './summary';

const HEADERS = [
  'source → region',
  'arrivals',
  'lag avg',
  'lag median',
  'lag p95',
  'first pulls',
  'pullable avg',
  'pullable median',
  'pullable p95',
  'rescued',
  'missed',
  'rescue fraction',
];

export function formatStalenessTable(report: StalenessReport): string {
  const rows = report.pairs.map((p) => [
    `${p.sourceRegion} → ${p.region}`,
    String(p.replicationLag.count),
    ...figures(p.replicationLag),
    String(p.timeToPullable.count),
    ...figures(p.timeToPullable),
    String(p.pulls.rescued),
    String(p.pulls.missed),
    p.pulls.rescueFraction === null ? '-' : `${(p.pulls.rescueFraction * 100).toFixed(1)} %`,
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  return [
    `staleness of region ${report.region} over the last ${report.windowSeconds} s (at ${report.generatedAt}); ` +
      `times in seconds; origin pushes here: ${report.originPushes}`,
    line(HEADERS),
    ...rows.map(line),
    '',
  ].join('\n');
}

function figures(s: Summary): string[] {
  return [s.avgSeconds, s.medianSeconds, s.p95Seconds].map((v) => (v === null ? '-' : v.toFixed(3)));
}
