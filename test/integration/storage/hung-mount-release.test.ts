/**
 * What releases a thread blocked in a call on a mount that never answers (a FUSE filesystem
 * whose every lookup hangs, as a dead server's mount does): README.md's advice to operators whose
 * geosync waits on such a mount. Detaching the mount (`fusermount -u -z`, `umount -l`) does not:
 * the calls already waiting stay blocked. Aborting the FUSE connection does: through fusectl
 * (`/sys/fs/fuse/connections/<id>/abort`, https://www.kernel.org/doc/html/latest/filesystems/fuse.html)
 * or `umount -f` (it says "target is busy" yet aborts the connection first); the blocked call
 * then fails with ECONNABORTED.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fuseConnectionId, mounted, startHungMount, type HungMount } from '../../support/storage/hung-mount';

jest.setTimeout(60_000);

let dir: string;
const mounts: HungMount[] = [];
/** fusectl, mounted in the test's own directory (not over /sys). */
let fusectl: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-hung-release-'));
  fusectl = path.join(dir, 'fusectl');
  fs.mkdirSync(fusectl);
  execFileSync('mount', ['-t', 'fusectl', 'none', fusectl]);
});

afterAll(async () => {
  for (const m of mounts) await m.release();
  spawnSync('umount', [fusectl]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stat on the hung mount, running in one of libuv's threads, as geosync's FsProbe does. */
function blockedStat(root: string): { settled(): boolean; result: Promise<string> } {
  let done = false;
  const result = fs.promises.stat(path.join(root, 'docker')).then(
    () => 'answered',
    (err: NodeJS.ErrnoException) => err.code ?? String(err),
  );
  void result.finally(() => (done = true));
  return { settled: () => done, result };
}

async function hungMount(name: string): Promise<HungMount> {
  const m = await startHungMount(path.join(dir, name));
  mounts.push(m);
  return m;
}

/** Waits until `call` settles: its outcome, or 'still blocked' at the deadline. */
async function outcomeWithin(call: { result: Promise<string> }, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still blocked'), ms)));
  try {
    return await Promise.race([call.result, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Long enough for a call that is released to return, even on a loaded machine. */
const RELEASED_WITHIN_MS = 20_000;
/** How long a call must stay blocked to count as not released. */
const STILL_BLOCKED_AFTER_MS = 3_000;

test('fusermount -u fails (busy); -u -z detaches the mount, but the blocked call stays blocked', async () => {
  const m = await hungMount('detach');
  const call = blockedStat(m.root);
  expect(await outcomeWithin(call, 500)).toBe('still blocked');

  expect(spawnSync('fusermount3', ['-u', m.root]).status).not.toBe(0);
  expect(mounted(m.root)).toBe(true);
  expect(spawnSync('fusermount3', ['-u', '-z', m.root]).status).toBe(0);
  expect(mounted(m.root)).toBe(false);
  expect(await outcomeWithin(call, STILL_BLOCKED_AFTER_MS)).toBe('still blocked');

  // Only ending the connection (here: its FUSE process) lets it return.
  await m.release();
  expect(await outcomeWithin(call, RELEASED_WITHIN_MS)).toBe('ECONNABORTED');
});

test("writing 1 to the connection's fusectl abort file returns the blocked call", async () => {
  const m = await hungMount('abort');
  const call = blockedStat(m.root);
  expect(await outcomeWithin(call, 500)).toBe('still blocked');
  fs.writeFileSync(path.join(fusectl, fuseConnectionId(m.root), 'abort'), '1');
  expect(await outcomeWithin(call, RELEASED_WITHIN_MS)).toBe('ECONNABORTED');
  // The dead mount stays until it is unmounted; new calls on it fail at once.
  expect(mounted(m.root)).toBe(true);
  expect(await outcomeWithin(blockedStat(m.root), RELEASED_WITHIN_MS)).toBe('ENOTCONN');
  expect(spawnSync('umount', [m.root]).status).toBe(0);
});

test('umount -f reports the mount busy, yet aborts the connection: the blocked call returns', async () => {
  const m = await hungMount('force');
  const call = blockedStat(m.root);
  expect(await outcomeWithin(call, 500)).toBe('still blocked');
  spawnSync('umount', ['-f', m.root]);
  expect(await outcomeWithin(call, RELEASED_WITHIN_MS)).toBe('ECONNABORTED');
  expect(spawnSync('umount', [m.root]).status).toBe(0);
  expect(mounted(m.root)).toBe(false);
});
