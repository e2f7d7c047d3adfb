import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/command';
import { configText } from './support';

const repo = path.resolve(__dirname, '../../..');

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise(() => undefined),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function tempFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'geosync-envoy-')), name);
  writeFileSync(file, text);
  return file;
}

describe('geosync envoy-config', () => {
  test('prints the bootstrap as YAML, or JSON', async () => {
    const config = path.join(repo, 'envoy/example/geosync-b.yaml');
    const yaml = await run('envoy-config', '--config', config);
    expect(yaml.code).toBe(0);
    expect(parse(yaml.stdout)).toHaveProperty('static_resources.listeners');
    expect(yaml.stdout.split('\n')[0]).toBe(
      '# Envoy bootstrap for geosync region "b" (Envoy 1.37 or newer).',
    );
    const json = await run('envoy-config', '--config', config, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toHaveProperty('admin');
  });

  test('the flags of removed modes are usage errors', async () => {
    const config = tempFile('g.yaml', configText({ regions: 2 }));
    const old = await run('envoy-config', '--config', config, '--envoy-version', '1.31');
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('unknown flag --envoy-version');
    const fallback = await run('envoy-config', '--config', config, '--fallback', 'custom-response');
    expect(fallback.code).toBe(2);
    expect(fallback.stderr).toContain('unknown flag --fallback');
  });

  test('an invalid geosync configuration lists every problem and exits 2', async () => {
    const config = tempFile(
      'bad.yaml',
      configText({ regions: 2, envoy: { listener: { port: -1 }, extProc: { connectTimeoutMs: 0 } } }),
    );
    const result = await run('envoy-config', '--config', config);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('envoy.listener.port: must be >= 0, got -1');
    expect(result.stderr).toContain('envoy.extProc.connectTimeoutMs: must be >= 1, got 0');
  });

  test('usage errors exit 2', async () => {
    expect((await run('envoy-config')).code).toBe(2);
    expect((await run('envoy-config', '--config', 'x', '--format', 'toml')).stderr).toContain(
      '--format must be yaml or json, got "toml"',
    );
  });
});

describe('geosync envoy-config --check', () => {
  test('a valid bootstrap exits 0', async () => {
    const result = await run('envoy-config', '--check', path.join(repo, 'envoy/envoy-b.yaml'));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('ok');
  });

  test('a broken bootstrap exits 2 and lists every problem', async () => {
    const file = tempFile(
      'envoy.yaml',
      [
        'static_resources:',
        '  clusters:',
        '    - name: a',
        '      type: STRICT',
        '      conect_timeout: 1s',
        'admin: { address: { socket_address: { address: 127.0.0.1, port_value: 99999 } } }',
      ].join('\n'),
    );
    const result = await run('envoy-config', '--check', file);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('3 problem(s)');
    expect(result.stderr).toContain('static_resources.clusters[0].type: must be one of STATIC');
    expect(result.stderr).toContain('static_resources.clusters[0].conect_timeout: unknown field');
    expect(result.stderr).toContain(
      'admin.address.socket_address.port_value: must be at most 65535, got 99999',
    );
  });

  test('a missing file exits 2', async () => {
    expect((await run('envoy-config', '--check', '/nonexistent/envoy.yaml')).code).toBe(2);
  });
});
