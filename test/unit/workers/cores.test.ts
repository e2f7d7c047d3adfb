import { availableCores, cgroupCpuLimit, MAX_AUTO_WORKERS, workerCount } from '../../../src/workers/cores';

const files =
  (f: Record<string, string>) =>
  (path: string): string => {
    if (path in f) return f[path] as string;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  };

describe('cores', () => {
  test('cgroup v2 cpu.max: a quota in cores, or none', () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  test('cgroup v1 quota and period; -1 is no quota', () => {
    const v1 = (quota: string) =>
      files({
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      });
    expect(cgroupCpuLimit(v1('400000'))).toBe(4);
    expect(cgroupCpuLimit(v1('-1'))).toBeUndefined();
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });

  test('available cores: the quota rounded up, never above the CPUs, at least 1', () => {
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }), 8)).toBe(2);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000' }), 8)).toBe(8);
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '10000 100000' }), 8)).toBe(1);
    expect(availableCores(files({}), 3)).toBe(3);
  });

  test('listen.workers: as configured, 0 meaning one per core, at most MAX_AUTO_WORKERS', () => {
    expect(workerCount(3, () => 8)).toBe(3);
    expect(workerCount(0, () => 8)).toBe(8);
    expect(workerCount(0, () => 64)).toBe(MAX_AUTO_WORKERS);
    expect(workerCount(16, () => 64)).toBe(16);
  });
});
