/**
 * What `geosync envoy-config` prints as YAML (the bootstrap, and the EnvoyPatchPolicy for Envoy
 * Gateway) reads back as the same values under YAML 1.1, the YAML Envoy (yaml-cpp's conversions)
 * and Kubernetes (go-yaml v2) read: no region name turns into a boolean, null or number there.
 * test/integration/envoy/yaml-names.test.ts loads the bootstraps in real Envoy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/command';
import { loadConfigText } from '../../../src/config/load';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { envoyPatchPolicy } from '../../../src/envoy/gateway-patch';
import { twoRegionConfigText, YAML_TRAP_NAMES } from './support';

async function printed(...argv: string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise(() => undefined),
  };
  const code = await main(argv, io);
  if (code !== 0) throw new Error(`envoy-config exited ${code}: ${stderr}`);
  return stdout;
}

/** As Envoy and Kubernetes read it (with JSON's view of the values: no undefined, no Map). */
const asYaml11 = (text: string): unknown => JSON.parse(JSON.stringify(parse(text, { version: '1.1' })));
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe.each(YAML_TRAP_NAMES)('a region named %s', (name) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'geosync-render-'));
  const file = path.join(dir, 'geosync.yaml');
  writeFileSync(file, twoRegionConfigText(name));
  const loaded = loadConfigText(twoRegionConfigText(name));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const config = loaded.config;

  test('the bootstrap reads back unchanged as YAML 1.1', async () => {
    const text = await printed('envoy-config', '--config', file);
    expect(asYaml11(text)).toEqual(plain(buildBootstrap(config)));
  });

  test('the EnvoyPatchPolicy reads back unchanged as YAML 1.1', async () => {
    const text = await printed(
      'envoy-config',
      '--config',
      file,
      '--envoy-gateway',
      'infra/eg/https',
      '--httproute',
      'oci',
    );
    const target = {
      namespace: 'infra',
      gateway: 'eg',
      listener: 'https',
      httpRoute: { namespace: 'infra', name: 'oci' },
    };
    expect(asYaml11(text)).toEqual(plain(envoyPatchPolicy(config, target)));
  });
});
