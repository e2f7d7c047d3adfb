/**
 * `npm run bench` (test/bench/) is not part of `npm test`; this runs every one of its parts once,
 * at the smallest size and with one geosync process per region (scale.ts, SMOKE), so that its code
 * cannot rot unnoticed: each part runs end to end (real Envoy, registries, Swift, skopeo, vegeta),
 * every pull and request it measures got the content it asked for (a part that measured failures
 * still writes a table), and the three output files come out well formed. It asserts nothing
 * about speed, and no target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../support/clients/geosync-cli';
import { run } from '../../support/process';
import { prettier } from '../../bench/report/write';
import { runBench } from '../../bench/run';
import { SMOKE } from '../../bench/scale';
import { LOOKUP_KINDS } from '../../bench/stack/fronts';

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

  // What was measured is what was asked for. Part 1: every GET answered (both sides). Part 2:
  // every whole-image pull by skopeo landed the pushed manifest (tools/pull.ts; skopeo checks
  // each blob against its digest). Part 3: every herd request answered 200 with the digest it
  // asked for (parts/herd-run.ts). Part 4 throws when a pull never succeeds. Parts 7 and 8: every
  // tag GET answered the pushed digest, every tag list the tags each region holds.
  const data = <T>(n: number) => result.parts.find((p) => p.part === n)?.data as T;
  type Side = { requests: number; failures: number };
  const local = data<{ cases: { geosync: Side; alone: Side }[] }>(1).cases;
  expect(local.length).toBeGreaterThan(0);
  for (const c of local) {
    expect([c.geosync.failures, c.alone.failures]).toEqual([0, 0]);
    expect(Math.min(c.geosync.requests, c.alone.requests)).toBeGreaterThan(0);
  }
  // Part 2: every pull landed, timed for each way (direct, and each way to rescue it).
  const pulls = data<{ cases: { failed: string[]; ms: Record<string, number[]> }[] }>(2).cases;
  expect(pulls.length).toBeGreaterThan(0);
  expect(
    pulls.map((c) => [c.failed, Object.values(c.ms).every((times) => times.length === SMOKE.rescued.pairs)]),
  ).toEqual(pulls.map(() => [[], true]));
  expect(Object.keys(pulls[0]!.ms).sort()).toEqual(['direct', ...LOOKUP_KINDS].sort());
  // Part 3: each way ran, and every herd request got 200 with the digest it asked for.
  const herds = data<{
    rows: {
      kind: string;
      n: number;
      rescued: { failedRequests: number };
      local: { failedRequests: number };
    }[];
  }>(3).rows;
  expect([...new Set(herds.map((r) => r.kind))].sort()).toEqual([...LOOKUP_KINDS].sort());
  expect(herds.filter((r) => r.rescued.failedRequests + r.local.failedRequests > 0)).toEqual([]);
  expect(data<{ wrongDigests: number; checks: number }>(7)).toMatchObject({ wrongDigests: 0 });
  expect(data<{ checks: number }>(7).checks).toBeGreaterThan(0);
  expect(data<{ disagreements: number; gets: number }>(8)).toMatchObject({ disagreements: 0 });
  expect(data<{ gets: number }>(8).gets).toBeGreaterThan(0);

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
