/**
 * How many cores this process may use. os.availableParallelism() follows the affinity mask and,
 * on cgroup v2, the CPU limit rounded down (libuv's uv_available_parallelism, src/unix/core.c and
 * uv__get_constrained_cpu in src/unix/linux.c, since libuv 1.49: Node 22.15 and 24). libuv's
 * cgroup v1 lookup looks for a `:cpu,` controller line and then builds a path that does not exist
 * for the usual `cpu,cpuacct` hierarchy, so it finds no limit there: a v1 quota (a container's
 * `resources.limits.cpu` on a cgroup v1 node) is read here, rounded up
 * (https://docs.kernel.org/scheduler/sched-bwc.html). `listen.workers: 0` starts this many workers.
 */
import fs from 'node:fs';
import os from 'node:os';

export type ReadFile = (path: string) => string;

const readText: ReadFile = (path) => fs.readFileSync(path, 'utf8');

/** The cgroup v1 CPU quota in cores, or undefined when there is none (or it cannot be read). */
export function cgroupV1CpuLimit(read: ReadFile = readText): number | undefined {
  try {
    const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    return quota > 0 && period > 0 ? quota / period : undefined;
  } catch {
    return undefined;
  }
}

export function availableCores(
  read: ReadFile = readText,
  parallelism: number = os.availableParallelism(),
): number {
  const limit = cgroupV1CpuLimit(read);
  return Math.max(1, limit === undefined ? parallelism : Math.min(parallelism, Math.ceil(limit)));
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
