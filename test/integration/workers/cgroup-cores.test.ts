/**
 * `listen.workers: 0` under a container's CPU limit, with the real Node and its libuv: the
 * process runs in a mount namespace of the test's own whose /proc/self/cgroup and /sys/fs/cgroup
 * are those of a container limited by cgroup v2 (`cpu.max`, read by os.availableParallelism()) or
 * by cgroup v1 (`cpu,cpuacct`, which libuv misses and src/workers/cores.ts reads). The machine
 * has few CPUs, so the limits are below one per CPU. Needs root (unshare, mount), as the machines
 * that run the suite are; needs `npm run build` (dist/).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../support/clients/geosync-cli';

const CORES = path.join(ROOT, 'dist/workers/cores.js');

/** `workerCount(0)` of a process that sees `selfCgroup` and the files under /sys/fs/cgroup. */
async function workersUnder(selfCgroup: string, cgroupFiles: Record<string, string>): Promise<number> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    'mount --make-rprivate /',
    // The pid stays the same through exec, so /proc/self/cgroup is this file for node too.
    `printf %s ${quote(selfCgroup)} > "$SELF" && mount --bind "$SELF" /proc/$$/cgroup`,
    'mount -t tmpfs geosync-test /sys/fs/cgroup',
    ...Object.entries(cgroupFiles).map(
      ([file, text]) =>
        `mkdir -p "$(dirname ${quote(`/sys/fs/cgroup/${file}`)})" && printf %s ${quote(text)} > ${quote(`/sys/fs/cgroup/${file}`)}`,
    ),
    'ln -s cpu,cpuacct /sys/fs/cgroup/cpu 2>/dev/null || true',
    `exec "$NODE" -e ${quote(`console.log(require(${JSON.stringify(CORES)}).workerCount(0))`)}`,
  ].join('\n');
  const self = path.join(os.tmpdir(), `geosync-cgroup-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const { stdout } = await promisify(execFile)('unshare', ['--mount', '/bin/sh', '-c', script], {
    env: { ...process.env, NODE: process.execPath, SELF: self },
    timeout: 30_000,
  });
  return Number(stdout.trim());
}

const cpus = os.availableParallelism();

test('the machine has a CPU to spare, so a limit of one can show', () => {
  expect(cpus).toBeGreaterThanOrEqual(2);
});

test('cgroup v2: the CPU limit, rounded down, as os.availableParallelism() applies it', async () => {
  const v2 = (max: string) =>
    workersUnder('0::/\n', {
      'cgroup.controllers': 'cpu memory\n',
      'cpu.max': `${max}\n`,
      'cpu.weight': '100\n',
    });
  expect(await v2('100000 100000')).toBe(1);
  expect(await v2('150000 100000')).toBe(1);
  expect(await v2('max 100000')).toBe(Math.min(cpus, 8));
});

test('cgroup v1 (cpu,cpuacct): the quota, rounded up, which libuv does not see', async () => {
  const v1 = (quota: string) =>
    workersUnder('12:cpu,cpuacct:/\n11:memory:/\n', {
      'cpu,cpuacct/cpu.cfs_quota_us': `${quota}\n`,
      'cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
  expect(await v1('100000')).toBe(1);
  expect(await v1('-1')).toBe(Math.min(cpus, 8));
});
