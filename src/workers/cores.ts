/**
 * How many cores this process may use: the cgroup CPU limit when one is set (a container's
 * `resources.limits.cpu`: cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`,
 * https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files), rounded up, never more
 * than the CPUs it may run on (os.availableParallelism, which follows the affinity mask but not
 * the quota). `listen.workers: 0` starts this many workers.
 */
import fs from 'node:fs';
import os from 'node:os';

export type ReadFile = (path: string) => string;

const readText: ReadFile = (path) => fs.readFileSync(path, 'utf8');

/** The quota in cores, or undefined when there is none (or it cannot be read). */
export function cgroupCpuLimit(read: ReadFile = readText): number | undefined {
  const ratio = (quota: number, period: number) =>
    Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : undefined;
  try {
    const [quota, period] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    return ratio(Number(quota), Number(period));
  } catch {
    // Not cgroup v2: try v1.
  }
  try {
    return ratio(
      Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim()),
      Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim()),
    );
  } catch {
    return undefined;
  }
}

export function availableCores(
  read: ReadFile = readText,
  parallelism: number = os.availableParallelism(),
): number {
  const limit = cgroupCpuLimit(read);
  const cores = limit === undefined ? parallelism : Math.min(parallelism, Math.ceil(limit));
  return Math.max(1, cores);
}

/**
 * At most this many workers when `listen.workers` is 0: a sidecar without a CPU limit on a large
 * node would otherwise start one process (about 120 MiB each) per core of the node.
 */
export const MAX_AUTO_WORKERS = 8;

/** `listen.workers` as configured, 0 meaning one per available core, at most MAX_AUTO_WORKERS. */
export function workerCount(configured: number, cores: () => number = () => availableCores()): number {
  return configured > 0 ? configured : Math.min(cores(), MAX_AUTO_WORKERS);
}
