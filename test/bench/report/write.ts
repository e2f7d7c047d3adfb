/**
 * Writes a run into a directory: `results.json` (every number), `results.md` (the tables) and
 * `latency.svg` (the chart). The JSON is formatted by the repository's own Prettier (its command
 * line: its API needs ES-module loading that jest does not offer), so a run written into the
 * repository (test/bench/results/, what the README shows) leaves `npm run lint` passing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../support/clients/geosync-cli';
import { run } from '../../support/process';
import type { BenchRun } from '../results';
import { chartSvg } from './chart';
import { machineLine, markdown } from './markdown';

export const OUTPUT_FILES = { json: 'results.json', markdown: 'results.md', chart: 'latency.svg' } as const;

/** The repository's Prettier on `args`, with the repository's configuration wherever the files are. */
export async function prettier(args: readonly string[]): Promise<void> {
  const bin = path.join(path.dirname(require.resolve('prettier/package.json')), 'bin', 'prettier.cjs');
  const config = path.join(ROOT, '.prettierrc.json');
  await run(process.execPath, [bin, '--config', config, ...args], { timeoutMs: 60_000, cwd: ROOT });
}

export async function writeRun(
  result: BenchRun,
  dir: string,
): Promise<Record<keyof typeof OUTPUT_FILES, string>> {
  fs.mkdirSync(dir, { recursive: true });
  const files = {
    json: path.join(dir, OUTPUT_FILES.json),
    markdown: path.join(dir, OUTPUT_FILES.markdown),
    chart: path.join(dir, OUTPUT_FILES.chart),
  };
  // NaN and Infinity (a ratio without a baseline) are not JSON: they become null.
  const json = JSON.stringify(result, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? null : v,
  );
  fs.writeFileSync(files.json, json);
  await prettier(['--write', files.json]);
  fs.writeFileSync(files.markdown, `${markdown(result)}\n`);
  const panels = [...result.parts].sort((a, b) => a.part - b.part).flatMap((p) => p.panels);
  fs.writeFileSync(
    files.chart,
    chartSvg(panels, `geosync benchmark: ${machineLine(result).replace(/`/g, '')}`),
  );
  return files;
}
