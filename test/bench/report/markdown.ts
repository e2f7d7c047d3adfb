/** The run as Markdown: the machine, then per part what ran, its table, its targets and notes. */
import { met, type BenchRun, type PartResult, type Table } from '../results';

export function table(t: Table): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `| ${t.header.map(cell).join(' | ')} |`,
    `|${t.header.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function machineLine(run: BenchRun): string {
  const m = run.machine;
  return (
    `${run.date}, ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, ` +
    `Node ${m.node}, Envoy ${m.envoy}, vegeta ${m.vegeta}; scale \`${run.scale}\`, ` +
    `${Math.round(run.totalSeconds)} s in all; load average ${m.loadAverage.start.toFixed(1)} at the start, ` +
    `${m.loadAverage.end.toFixed(1)} at the end`
  );
}

function part(p: PartResult): string {
  const targets = p.targets.map((t) => `- target: ${t.text}: **${met(t)}**${t.note ? ` (${t.note})` : ''}`);
  return [
    `### ${p.part}. ${p.title}`,
    '',
    p.method,
    '',
    table(p.table),
    '',
    ...targets,
    ...p.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** The whole run. */
export function markdown(run: BenchRun): string {
  return [
    '## geosync benchmark results',
    '',
    machineLine(run),
    '',
    ...[...run.parts].sort((x, y) => x.part - y.part).map(part),
  ].join('\n');
}
