/**
 * A directory on which every filesystem call below its root hangs (test/support/storage/hung-fs.py, a
 * FUSE filesystem: Debian's python3-fusepy and fuse3, installed by scripts/install-deps.sh), as
 * a mount of a dead NFS server behaves. `release()` ends the FUSE process: the calls that hang
 * then fail, and their threads are free again.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface HungMount {
  readonly root: string;
  release(): Promise<void>;
}

/** Whether `dir` is a mount point now (/proc/mounts). */
export function mounted(dir: string): boolean {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

/**
 * The FUSE connection of the mount at `dir`: its directory name under fusectl
 * (/sys/fs/fuse/connections/<id>), the device number of the mount, read from
 * /proc/self/mountinfo so that nothing touches the hung filesystem itself.
 * https://www.kernel.org/doc/html/latest/filesystems/fuse.html (Control filesystem)
 */
export function fuseConnectionId(dir: string): string {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const [major, minor] = (fields[2] ?? '').split(':').map(Number);
    if (fields[4] === dir && major !== undefined && minor !== undefined)
      return String(major * 2 ** 20 + minor);
  }
  throw new Error(`${dir} is not mounted`);
}

/**
 * Runs the FUSE filesystem `script` (a file beside this one; Debian's own Python, where
 * python3-fusepy is: a python3 earlier on PATH may be another) and waits until `dir` is mounted.
 */
export async function startFuse(
  script: string,
  args: readonly string[],
  dir: string,
): Promise<{ readonly child: ChildProcess; readonly exited: Promise<void> }> {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn('/usr/bin/python3', [path.join(__dirname, script), ...args], {
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
    throw new Error(`${script} did not mount ${dir}: ${stderr}`);
  }
  return { child, exited };
}

export async function startHungMount(dir: string): Promise<HungMount> {
  const { child, exited } = await startFuse('hung-fs.py', [dir], dir);
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
