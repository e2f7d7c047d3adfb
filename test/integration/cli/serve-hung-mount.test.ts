/**
 * `geosync serve` with a sibling whose filesystem hangs (a FUSE mount that never answers, as a
 * dead NFS server's mount does): it serves, and on SIGTERM it drains and says why it cannot end
 * yet: a thread blocked in the kernel on that mount keeps the process (exit and even SIGKILL wait
 * for it). Once the mount is aborted, it exits 0 by itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServe, waitForStatus } from '../../support/clients/geosync-cli';
import { startHungMount, type HungMount } from '../../support/storage/hung-mount';
import { freePort } from '../../support/net/ports';

jest.setTimeout(60_000);

let dir: string;
let hung: HungMount | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-serve-hung-'));
  hung = await startHungMount(path.join(dir, 'hung'));
});

afterAll(async () => {
  await hung?.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('SIGTERM with calls hanging in a sibling mount: geosync drains, says why it waits, and exits 0 once the mount is aborted', async () => {
  const admin = `127.0.0.1:${await freePort()}`;
  const file = path.join(dir, 'geosync.yaml');
  fs.writeFileSync(
    file,
    [
      'region: b',
      `listen: { grpc: "127.0.0.1:${await freePort()}", admin: "${admin}" }`,
      'drainMs: 200',
      'regions:',
      `  - { name: a, url: "http://127.0.0.1:5101", storage: { type: filesystem, root: ${hung!.root} } }`,
      `  - { name: b, url: "http://127.0.0.1:5102", storage: { type: filesystem, root: ${dir}/b } }`,
      '',
    ].join('\n'),
  );
  const serve = startServe(file);
  try {
    // The start-up warm-up and storage check each leave a call hanging in a's mount.
    await waitForStatus(`http://${admin}/readyz`, 200, 30_000);
    serve.child.kill('SIGTERM');
    for (let i = 0; i < 300 && !serve.output().includes('"msg":"stopped"'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(serve.output()).toContain("filesystem calls to a sibling's storage still hang");
    expect(serve.output()).toContain('"msg":"stopped"');
    // What an operator does (umount -f; here the FUSE process ends): the process leaves, status 0.
    await hung?.release();
    hung = undefined;
    // A bound for a hung test only.
    const code = await Promise.race([
      serve.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000)),
    ]);
    expect(code).toBe(0);
  } finally {
    serve.child.kill('SIGKILL');
  }
});
