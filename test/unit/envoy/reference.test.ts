/**
 * envoy/envoy-b.yaml is the bootstrap generated from envoy/example/geosync-b.yaml. It must match
 * what the generator prints today. After a deliberate generator change, regenerate it with
 *   GEOSYNC_UPDATE_ENVOY_REFERENCE=1 npx jest test/unit/envoy/reference
 * (equivalent to `geosync envoy-config --config envoy/example/geosync-b.yaml > envoy/envoy-b.yaml`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../../../src/config/load';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { renderBootstrap } from '../../../src/envoy/render';

const repo = path.resolve(__dirname, '../../..');
const SOURCE = 'envoy/example/geosync-b.yaml';
const REFERENCE = 'envoy/envoy-b.yaml';

test(`${REFERENCE} is in sync with the generator`, async () => {
  const loaded = await loadConfigFile(path.join(repo, SOURCE), {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const text = renderBootstrap(buildBootstrap(loaded.config), 'yaml', {
    region: loaded.config.region,
    source: SOURCE,
  });
  const target = path.join(repo, REFERENCE);
  if (process.env.GEOSYNC_UPDATE_ENVOY_REFERENCE === '1') writeFileSync(target, text);
  expect(readFileSync(target, 'utf8')).toBe(text);
});
