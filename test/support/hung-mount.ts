/**
 * A directory on which every filesystem call below its root hangs (test/support/hung-fs.py, a
 * FUSE filesystem: Debian's python3-fusepy and fuse3, installed by scripts/install-deps.sh), as
 * a mount of a dead NFS server behaves. `release()` ends the FUSE process: the calls that hang
 * then fail, and their threads are free again.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface HungMount {
  readonly root: string;
  release(): Promise<void>;
}

function mounted(dir: string): boolean {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

export async function startHungMount(dir: string): Promise<HungMount> {
  fs.mkdirSync(dir, { recursive: true });
  // Debian's own Python, where python3-fusepy is (a python3 earlier on PATH may be another).
  const child = spawn('/usr/bin/python3', [path.join(__dirname, 'hung-fs.py'), dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let i = 0; i < 100 && !mounted(dir); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!mounted(dir)) {
    child.kill('SIGKILL');
    throw new Error(`hung-fs.py did not mount ${dir}: ${stderr}`);
  }
  return {
    root: dir,
    async release() {
      child.kill('SIGKILL');
      await exited;
      try {
        execFileSync('fusermount3', ['-u', '-z', dir], { stdio: 'ignore' });
      } catch {
        // Already gone with its process.
      }
    },
  };
}
