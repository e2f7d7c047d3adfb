import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runCli } from '../../support/clients/geosync-cli';

const fixtures = path.join(ROOT, 'test/unit/config/fixtures');

describe('geosync CLI', () => {
  test('check-config on a broken file lists every problem and exits 2', async () => {
    const r = await runCli(['check-config', '--config', path.join(fixtures, 'many-problems.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('9 problem(s)');
    expect(r.stderr).toContain('  bogus: unknown key');
    expect(r.stderr).toContain('  regions[1].storage.root: must be an absolute path, got "rel/path"');
    expect(r.stderr).toContain('  lookupTimeoutMs: must be >= 1, got -1');
    expect(r.stderr.trim().split('\n')).toHaveLength(10);
  });

  test('check-config suggests the key a typo meant', async () => {
    const r = await runCli(['check-config', '--config', path.join(fixtures, 'unknown-key.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('  lookupTimout: unknown key (did you mean lookupTimeoutMs?)');
  });

  test('config-schema prints the published JSON Schema', async () => {
    const r = await runCli(['config-schema']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(readFileSync(path.join(ROOT, 'deploy/config/geosync.schema.json'), 'utf8'));
  });

  test('check-config on a valid file exits 0', async () => {
    const r = await runCli([
      'check-config',
      '--config',
      path.join(ROOT, 'deploy/config/geosync.example.yaml'),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('ok (region b; siblings in preference order: c, a)');
  });

  test('serve with an invalid file starts nothing and exits 2', async () => {
    const r = await runCli(['serve', '--config', path.join(fixtures, 'region-unknown.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('region: "z" is not one of regions[].name (a, b)');
    expect(r.stdout).toBe('');
  });

  test('--version, unknown command, missing flag', async () => {
    expect((await runCli(['--version'])).stdout).toMatch(/^geosync \d+\.\d+\.\d+\n$/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const r = await runCli(['check-config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--config FILE is required');
  });
});
