/**
 * A directory that shows another one with a delay on every filesystem call
 * (test/support/slow-fs.py, a FUSE passthrough: Debian's python3-fusepy and fuse3, installed by
 * scripts/install-deps.sh), as a slow network mount behaves: each call answers, only late.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface SlowMount {
  readonly root: string;
  stop(): Promise<void>;
}

function mounted(dir: string): boolean {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

export async function startSlowMount(source: string, dir: string, delayMs: number): Promise<SlowMount> {
  fs.mkdirSync(dir, { recursive: true });
  // Debian's own Python, where python3-fusepy is (a python3 earlier on PATH may be another).
  const child = spawn(
    '/usr/bin/python3',
    [path.join(__dirname, 'slow-fs.py'), source, dir, String(delayMs)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let i = 0; i < 100 && !mounted(dir); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!mounted(dir)) {
    child.kill('SIGKILL');
    throw new Error(`slow-fs.py did not mount ${dir}: ${stderr}`);
  }
  return {
    root: dir,
    async stop() {
      try {
        execFileSync('fusermount3', ['-u', '-z', dir], { stdio: 'ignore' });
      } catch {
        // Gone already.
      }
      child.kill('SIGKILL');
      await exited;
    },
  };
}
