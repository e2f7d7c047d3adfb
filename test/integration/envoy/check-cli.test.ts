/**
 * `geosync envoy-config --check FILE` (the built CLI) says which checks ran: Envoy's API protos
 * always, and `envoy --mode validate` with the real binary when ENVOY_BIN or an envoy on PATH is
 * there. A bootstrap only the binary can reject (a certificate file that does not exist) shows
 * the second check is real.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envoyBinary } from '../../support/envoy';
import { ROOT, runCli } from '../../support/geosync-cli';

jest.setTimeout(60_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function generated(): Promise<string> {
  const run = await runCli([
    'envoy-config',
    '--config',
    path.join(ROOT, 'deploy/config/geosync.example.yaml'),
  ]);
  expect(run.code).toBe(0);
  const file = path.join(dir, 'envoy.yaml');
  fs.writeFileSync(file, run.stdout);
  return file;
}

test('with a binary: both checks run and are named, with the Envoy version', async () => {
  const file = await generated();
  const envoy = envoyBinary('newest');
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoy.path });
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(
    `${file}: ok against Envoy's API protos (envoy.config.bootstrap.v3.Bootstrap)\n` +
      `${file}: ok by envoy ${envoy.version} --mode validate (${envoy.path})\n`,
  );
  expect(run.code).toBe(0);
});

test('an envoy on PATH is found too (the oldest release here)', async () => {
  const file = await generated();
  const envoy = envoyBinary('oldest');
  const run = await runCli(['envoy-config', '--check', file], {
    ENVOY_BIN: '',
    PATH: `${path.dirname(envoy.path)}:${process.env.PATH ?? ''}`,
  });
  expect(run.stdout).toContain(`ok by envoy ${envoy.version} --mode validate`);
  expect(run.code).toBe(0);
});

test('what only the binary can see (a missing certificate file) fails the check, with its message', async () => {
  const text = fs.readFileSync(path.join(ROOT, 'envoy/envoy-b.yaml'), 'utf8');
  expect(text).toContain('/etc/envoy/tls/tls.crt');
  const file = path.join(dir, 'missing-cert.yaml');
  fs.writeFileSync(file, text.replaceAll('/etc/envoy/tls/', '/nonexistent/geosync-test/'));
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoyBinary('newest').path });
  expect(run.stdout).toContain("ok against Envoy's API protos");
  expect(run.stderr).toContain(`--mode validate failed`);
  expect(run.stderr).toContain('/nonexistent/geosync-test/');
  expect(run.code).toBe(2);
});

test('without a binary: the API-proto check, and a line saying the other did not run', async () => {
  const file = await generated();
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: '', PATH: '/usr/bin:/bin' });
  expect(run.stdout).toBe(
    `${file}: ok against Envoy's API protos (envoy.config.bootstrap.v3.Bootstrap)\n` +
      `${file}: envoy --mode validate not run: no Envoy binary (set ENVOY_BIN or put envoy on PATH)\n`,
  );
  expect(run.code).toBe(0);
});
