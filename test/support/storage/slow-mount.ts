/**
 * A directory that shows another one with a delay on every filesystem call
 * (test/support/storage/slow-fs.py, a FUSE passthrough: Debian's python3-fusepy and fuse3, installed by
 * scripts/install-deps.sh), as a slow network mount behaves: each call answers, only late.
 */
import { execFileSync } from 'node:child_process';
import { startFuse } from './hung-mount';

export interface SlowMount {
  readonly root: string;
  stop(): Promise<void>;
}

export async function startSlowMount(source: string, dir: string, delayMs: number): Promise<SlowMount> {
  const { child, exited } = await startFuse('slow-fs.py', [source, dir, String(delayMs)], dir);
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
