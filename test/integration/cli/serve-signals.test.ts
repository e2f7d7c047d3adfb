/**
 * `geosync serve` as a process: SIGHUP drains and exits 0 like SIGTERM (Node's default would end
 * the process at once, failing the streams in flight), and a gRPC listener on every interface is
 * warned about (the ext_proc port has no authentication).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServe, waitForStatus } from '../../support/clients/geosync-cli';
import { freePort } from '../../support/net/ports';

jest.setTimeout(60_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-signals-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function configFile(grpcHost: string): Promise<{ file: string; admin: string }> {
  const admin = `127.0.0.1:${await freePort()}`;
  const file = path.join(dir, `geosync-${grpcHost}.yaml`);
  fs.writeFileSync(
    file,
    [
      'region: b',
      `listen: { grpc: "${grpcHost}:${await freePort()}", admin: "${admin}" }`,
      'drainMs: 200',
      'telemetry: { logLevel: info }',
      'regions:',
      `  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: ${dir}/a } }`,
      `  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: ${dir}/b } }`,
      '',
    ].join('\n'),
  );
  return { file, admin: `http://${admin}` };
}

const WILDCARD_WARNING = 'listen.grpc accepts connections on every interface';

test('SIGHUP drains and exits 0, like SIGTERM', async () => {
  const { file, admin } = await configFile('127.0.0.1');
  const serve = startServe(file);
  try {
    await waitForStatus(`${admin}/readyz`, 200, 30_000);
    serve.child.kill('SIGHUP');
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toContain('"signal":"SIGHUP"');
    expect(serve.output()).toContain('"msg":"stopped"');
    expect(serve.output()).not.toContain(WILDCARD_WARNING);
  } finally {
    serve.child.kill('SIGKILL');
  }
});

test('a gRPC listener on every interface is warned about at start', async () => {
  const { file, admin } = await configFile('0.0.0.0');
  const serve = startServe(file);
  try {
    await waitForStatus(`${admin}/readyz`, 200, 30_000);
    expect(serve.output()).toContain(WILDCARD_WARNING);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  } finally {
    serve.child.kill('SIGKILL');
  }
});
