/**
 * Region names that YAML 1.1 (which Envoy reads) takes for something else than a string
 * (YAML_TRAP_NAMES): the bootstrap `geosync envoy-config` prints (renderBootstrap) names this
 * region in a header value of each sibling route, and real Envoy, newest and oldest supported
 * release, must load it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigText } from '../../../src/config/load';
import { validateWithEnvoy } from '../../../src/envoy/binary';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { renderBootstrap } from '../../../src/envoy/render';
import { envoyBinary, type EnvoyRelease } from '../../support/envoy/envoy';
import { twoRegionConfigText, YAML_TRAP_NAMES } from '../../unit/envoy/support';

jest.setTimeout(120_000);

const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-yaml-names-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(RELEASES)('envoy %s loads the bootstrap of a region named', (release) => {
  test.each(YAML_TRAP_NAMES)('%s', async (name) => {
    const loaded = loadConfigText(twoRegionConfigText(name));
    if (!loaded.ok) throw new Error(`${name}: ${JSON.stringify(loaded.problems)}`);
    expect(loaded.config.region).toBe(name);
    const file = path.join(dir, `${release}-${name}.yaml`);
    fs.writeFileSync(
      file,
      renderBootstrap(buildBootstrap(loaded.config), 'yaml', { region: name, source: 'geosync.yaml' }),
    );
    const result = await validateWithEnvoy(envoyBinary(release).path, file);
    expect({ name, code: result.code, output: result.output }).toMatchObject({ name, code: 0 });
    expect(result.output).toContain('OK');
  });
});
