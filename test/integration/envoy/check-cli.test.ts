/**
 * `geosync envoy-config --check FILE` (the built CLI) runs the real Envoy's `envoy --mode validate`
 * and says which binary and release gave the verdict: exact for the Envoy that will run the file.
 * A field new in Envoy 1.38 passes (the bundled 1.31-era API protos of the former check called it
 * unknown), and what only Envoy can see (a certificate file that does not exist) fails with
 * Envoy's own message. Without any binary it exits 2 (test/unit/envoy/cli.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { envoyBinary } from '../../support/envoy/envoy';
import { ROOT, runCli } from '../../support/clients/geosync-cli';

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

test('with ENVOY_BIN: Envoy validates it, and the verdict names the release and binary', async () => {
  const file = await generated();
  const envoy = envoyBinary('newest');
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoy.path });
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(`${file}: ok by envoy ${envoy.version} --mode validate (${envoy.path})\n`);
  expect(run.code).toBe(0);
});

test('an envoy on PATH is found too (the oldest release here)', async () => {
  const file = await generated();
  const envoy = envoyBinary('oldest');
  const run = await runCli(['envoy-config', '--check', file], {
    ENVOY_BIN: '',
    PATH: `${path.dirname(envoy.path)}:${process.env.PATH ?? ''}`,
  });
  expect(run.stdout).toBe(`${file}: ok by envoy ${envoy.version} --mode validate (${envoy.path})\n`);
  expect(run.code).toBe(0);
});

test("neither: the newest release scripts/install-envoy.sh put in the checkout's .envoy/", async () => {
  const file = await generated();
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: '', PATH: '/usr/bin:/bin' });
  const newest = envoyBinary('newest');
  expect(run.stdout).toBe(
    `${file}: ok by envoy ${newest.version} --mode validate (${path.join(ROOT, '.envoy', newest.version, 'bin', 'envoy')})\n`,
  );
  expect(run.code).toBe(0);
});

test('a field new in Envoy 1.38 (HTTP/2 max_header_field_size_kb) passes on both releases tested', async () => {
  const bootstrap = parse(fs.readFileSync(await generated(), 'utf8'));
  const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  // Envoy's bounds: 64-256, and at most max_request_headers_kb (60 by default).
  hcm.max_request_headers_kb = 96;
  hcm.http2_protocol_options.max_header_field_size_kb = 64;
  const file = path.join(dir, 'newer-field.yaml');
  fs.writeFileSync(file, stringify(bootstrap));
  for (const release of ['newest', 'oldest'] as const) {
    const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoyBinary(release).path });
    expect(run.stdout).toContain(`ok by envoy ${envoyBinary(release).version} --mode validate`);
    expect(run.code).toBe(0);
  }
});

test("a broken bootstrap fails with Envoy's own message, exit 2", async () => {
  const bootstrap = parse(fs.readFileSync(await generated(), 'utf8'));
  bootstrap.static_resources.clusters[0].conect_timeout = '1s';
  const file = path.join(dir, 'broken.yaml');
  fs.writeFileSync(file, stringify(bootstrap));
  const envoy = envoyBinary('newest');
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoy.path });
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain(`${file}: envoy ${envoy.version} --mode validate failed (${envoy.path}):`);
  expect(run.stderr).toContain('conect_timeout');
  expect(run.code).toBe(2);
});

test('what only the binary can see (a missing certificate file) fails the check, with its message', async () => {
  const text = fs.readFileSync(path.join(ROOT, 'envoy/envoy-b.yaml'), 'utf8');
  expect(text).toContain('/etc/envoy/tls/tls.crt');
  const file = path.join(dir, 'missing-cert.yaml');
  fs.writeFileSync(file, text.replaceAll('/etc/envoy/tls/', '/nonexistent/geosync-test/'));
  const run = await runCli(['envoy-config', '--check', file], { ENVOY_BIN: envoyBinary('newest').path });
  expect(run.stderr).toContain(`--mode validate failed`);
  expect(run.stderr).toContain('/nonexistent/geosync-test/');
  expect(run.code).toBe(2);
});
