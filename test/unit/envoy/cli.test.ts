import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { checkBootstrapFile } from '../../../src/cli/envoy-config';
import { main } from '../../../src/cli/main';
import { findEnvoy } from '../../../src/envoy/binary';
import { NEWEST_TESTED_ENVOY } from '../../../src/envoy/releases';
import type { CliIo } from '../../../src/cli/command';
import { configText } from './support';

const repo = path.resolve(__dirname, '../../..');

/** Runs `command` with an io that keeps what it prints. */
async function captured(
  command: (io: CliIo) => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise(() => undefined),
  };
  const code = await command(io);
  return { code, stdout, stderr };
}

const run = (...argv: string[]) => captured((io) => main(argv, io));

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
      '# Envoy bootstrap for geosync region "b" (Envoy 1.39 or newer).',
    );
    const json = await run('envoy-config', '--config', config, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toHaveProperty('admin');
  });

  test("--output writes the same bootstrap to a file (what the Helm chart's init container runs)", async () => {
    const config = path.join(repo, 'envoy/example/geosync-b.yaml');
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'geosync-envoy-')), 'envoy.yaml');
    const written = await run('envoy-config', '--config', config, '--output', out);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    expect(written.stderr).toContain(`wrote the Envoy bootstrap of region b to ${out}`);
    expect(readFileSync(out, 'utf8')).toBe((await run('envoy-config', '--config', config)).stdout);
    const unwritable = await run('envoy-config', '--config', config, '--output', path.join(out, 'x', 'y'));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot write .*: ENOTDIR/);
    expect((await run('envoy-config', '--check', out, '--output', out)).stderr).toContain(
      '--output goes with --config, not --check',
    );
  });

  test('--envoy-gateway prints the EnvoyPatchPolicy for a Gateway listener and its HTTPRoute', async () => {
    const config = path.join(repo, 'envoy/example/geosync-b.yaml');
    const out = await run(
      'envoy-config',
      '--config',
      config,
      '--envoy-gateway',
      'infra/eg/https',
      '--httproute',
      'registry/oci',
    );
    expect(out.code).toBe(0);
    const policy = parse(out.stdout);
    expect(policy).toMatchObject({
      kind: 'EnvoyPatchPolicy',
      metadata: { name: 'geosync-b', namespace: 'infra' },
      spec: { targetRef: { kind: 'Gateway', name: 'eg' }, type: 'JSONPatch' },
    });
    const names = policy.spec.jsonPatches.map((p: { name: string }) => p.name);
    expect(names).toContain('httproute/registry/oci/rule/0');
    expect(names).toContain('infra/eg/https');
    for (const bad of [
      ['--envoy-gateway', 'eg/https', '--httproute', 'oci'],
      ['--envoy-gateway', 'infra/eg/https'],
      ['--envoy-gateway', 'infra/EG/https', '--httproute', 'oci'],
      ['--envoy-gateway', 'infra/eg/https', '--httproute', 'a/b/c'],
    ]) {
      const r = await run('envoy-config', '--config', config, ...bad);
      expect([bad, r.code]).toEqual([bad, 2]);
    }
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

describe('geosync envoy-config --check (what runs without Envoy; with it: test/integration/envoy/check-cli)', () => {
  test('a missing file exits 2', async () => {
    expect((await run('envoy-config', '--check', '/nonexistent/envoy.yaml')).code).toBe(2);
  });

  test('no Envoy binary: not checked, exit 2, and the one-line container command that checks it', async () => {
    const file = tempFile('envoy.yaml', 'static_resources: {}\n');
    const { code, stdout, stderr } = await captured((io) => checkBootstrapFile(file, io, undefined));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${file}: not checked: no Envoy binary (set ENVOY_BIN, put envoy on PATH, or run scripts/install-envoy.sh in a checkout). With a container engine, Envoy checks it so:\n` +
        `  docker run --rm -v "${file}:/envoy.yaml:ro" envoyproxy/envoy:v${NEWEST_TESTED_ENVOY} --mode validate -c /envoy.yaml\n`,
    );
  });
});

describe('finding Envoy as the tests do', () => {
  const exe = (file: string) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
    return file;
  };

  test('ENVOY_BIN, then envoy on PATH, then the newest release under .envoy/, else none', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'geosync-find-envoy-'));
    expect(findEnvoy({ PATH: '' }, root)).toBeUndefined();
    exe(path.join(root, '.envoy', '1.9.0', 'bin', 'envoy'));
    const newest = exe(path.join(root, '.envoy', '1.38.3', 'bin', 'envoy'));
    mkdirSync(path.join(root, '.envoy', '1.41.0'), { recursive: true }); // no binary: skipped
    expect(findEnvoy({ PATH: '' }, root)).toBe(newest);
    const onPath = exe(path.join(root, 'bin', 'envoy'));
    expect(findEnvoy({ PATH: path.join(root, 'bin') }, root)).toBe(onPath);
    expect(findEnvoy({ ENVOY_BIN: '/opt/envoy', PATH: path.join(root, 'bin') }, root)).toBe('/opt/envoy');
  });

  test('the container image named is the newest release the tests run', () => {
    const pins = readFileSync(path.join(repo, 'scripts/envoy-versions'), 'utf8');
    expect(/^NEWEST=(.+)$/m.exec(pins)?.[1]).toBe(NEWEST_TESTED_ENVOY);
  });
});
