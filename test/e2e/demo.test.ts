/**
 * The README's first command, `npm run demo`, as scripts/demo.sh runs it once its install is done:
 * the demo's build (tsconfig.demo.json, compiled by scripts/test.sh as by the demo script) run by
 * Node on the default filesystem driver: two regions of Debian's distribution 2.8, a real Envoy
 * and geosync each, skopeo, and the reference replicator. A type error in the code only the demo
 * and the benchmark build once left `npm run demo` failing while every suite passed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/clients/geosync-cli';
import { run } from '../support/process';

jest.setTimeout(240_000);

test('the demo: the pull from region b fails without geosync, succeeds with it, and writes nothing in b; exit 0', async () => {
  const demo = path.join(ROOT, 'build/test/demo/demo.js');
  if (!existsSync(demo)) {
    throw new Error(`${demo} is missing: run \`npx tsc -p tsconfig.demo.json\` (scripts/test.sh does)`);
  }
  // Exit 0 only when the pull with geosync landed the manifest, b's registry holds none of it, Envoy
  // followed a redirect and the staleness report counted the replicated arrival (demo.ts).
  // At the deadline SIGINT: the demo stops its regions' servers on it (they run in process groups
  // of their own, which a kill of the demo would leave running).
  const { stdout } = await run(process.execPath, [demo], { timeoutMs: 200_000, stopSignal: 'SIGINT' });
  expect(stdout).toMatch(/pull from region b WITHOUT geosync: FAILED \(manifest unknown\)/);
  expect(stdout).toMatch(/pull from region b WITH geosync: OK in \d+ ms, manifest digest matches/);
  expect(stdout).toMatch(/region b's storage still has no demo\/hello: nothing was written locally/);
  expect(stdout).toMatch(/^a → b +1 /m);
});
