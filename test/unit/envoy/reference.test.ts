/**
 * envoy/ holds bootstraps generated from envoy/example/geosync-b.yaml. They must match what the
 * generator prints today. After a deliberate generator change, regenerate them with
 *   GEOSYNC_UPDATE_ENVOY_REFERENCE=1 npx jest test/unit/envoy/reference
 * (equivalent to `geosync envoy-config --config envoy/example/geosync-b.yaml [...] > envoy/<file>`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../../../src/config/load';
import { buildBootstrap, type EnvoyMode } from '../../../src/envoy/bootstrap';
import { renderBootstrap } from '../../../src/envoy/render';

const repo = path.resolve(__dirname, '../../..');
const SOURCE = 'envoy/example/geosync-b.yaml';

const REFERENCES: [string, string | undefined, EnvoyMode][] = [
  ['envoy/envoy-b.yaml', undefined, 'ext_proc'],
  ['envoy/envoy-b.envoy-1.37.yaml', '1.37', 'ext_proc'],
  ['envoy/envoy-b.custom-response.yaml', '1.30', 'custom-response'],
];

test.each(REFERENCES)('%s is in sync with the generator', async (file, version, mode) => {
  const loaded = await loadConfigFile(path.join(repo, SOURCE), {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const built = buildBootstrap(loaded.config, { ...(version ? { version } : {}), mode });
  if (!built.ok) throw new Error(built.problems.join('\n'));
  const source = `${SOURCE}${version ? ` --envoy-version ${version}` : ''}${mode === 'custom-response' ? ' --fallback custom-response' : ''}`;
  const text = renderBootstrap(built.bootstrap, 'yaml', {
    region: loaded.config.region,
    envoyVersion: built.version,
    mode,
    source,
  });
  const target = path.join(repo, file);
  if (process.env.GEOSYNC_UPDATE_ENVOY_REFERENCE === '1') writeFileSync(target, text);
  expect(readFileSync(target, 'utf8')).toBe(text);
});
