/**
 * `npm run bench` (test/bench/) is not part of `npm test`; this runs every one of its parts at a
 * size that only proves the code still works end to end (real Envoy, registries, Swift, skopeo,
 * vegeta) and that the three output files come out well formed, so the benchmark cannot rot
 * unnoticed. It asserts nothing about speed, and no target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../support/geosync-cli';
import { run } from '../../support/process';
import { prettier } from '../../bench/report/write';
import { runBench } from '../../bench/run';
import { SMOKE } from '../../bench/scale';

jest.setTimeout(600_000);

let out: string;
beforeAll(async () => {
  // Installs vegeta when missing (the rest is there: scripts/test.sh ran install-deps.sh).
  await run('bash', [path.join(ROOT, 'scripts/bench-tools.sh')], { timeoutMs: 540_000 });
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-bench-smoke-'));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('every part of the benchmark runs at smoke scale and writes the JSON, the Markdown and the chart', async () => {
  const { run: result, files } = await runBench({ scale: SMOKE, outDir: out, log: () => {} });

  expect(result.parts.map((p) => p.part)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const p of result.parts) {
    expect(p.table.rows.length).toBeGreaterThan(0);
    for (const row of p.table.rows) expect(row).toHaveLength(p.table.header.length);
  }
  expect(result.machine.envoy).toMatch(/^\d+\.\d+\.\d+$/);

  // The JSON holds every part and is already in the repository's Prettier style, so a run written
  // into test/bench/results/ leaves `npm run lint` passing.
  const json = fs.readFileSync(files.json, 'utf8');
  expect((JSON.parse(json) as { parts: unknown[] }).parts).toHaveLength(8);
  await prettier(['--check', files.json]); // rejects when the file is not formatted

  const md = fs.readFileSync(files.markdown, 'utf8');
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) expect(md).toContain(`### ${n}. `);
  for (const way of ['storage', 'registry', 'retry']) expect(md).toContain(`| ${way} |`); // part 3's three ways

  const svg = fs.readFileSync(files.chart, 'utf8');
  expect(svg.startsWith('<svg ')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined/);
  // Parts 1, 2, 3, 5 and 7 each draw at least one panel.
  expect(svg.match(/<g transform=/g)?.length).toBeGreaterThanOrEqual(5);
});
