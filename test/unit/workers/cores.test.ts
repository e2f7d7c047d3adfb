import { availableCores, cgroupV1CpuLimit, MAX_AUTO_WORKERS, workerCount } from '../../../src/workers/cores';

const files =
  (f: Record<string, string>) =>
  (path: string): string => {
    if (path in f) return f[path] as string;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  };

const v1 = (quota: string) =>
  files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota, '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' });

describe('cores', () => {
  test('cgroup v1 quota and period; -1 is no quota', () => {
    expect(cgroupV1CpuLimit(v1('400000'))).toBe(4);
    expect(cgroupV1CpuLimit(v1('150000'))).toBe(1.5);
    expect(cgroupV1CpuLimit(v1('-1'))).toBeUndefined();
    expect(cgroupV1CpuLimit(files({}))).toBeUndefined();
  });

  test('available cores: a v1 quota rounded up, never above what Node reports, at least 1', () => {
    expect(availableCores(v1('150000'), 8)).toBe(2);
    expect(availableCores(v1('1600000'), 8)).toBe(8);
    expect(availableCores(v1('10000'), 8)).toBe(1);
    // cgroup v2: os.availableParallelism() has applied the limit (test/integration/workers).
    expect(availableCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }), 3)).toBe(3);
  });

  test('listen.workers: as configured, 0 meaning one per core, at most MAX_AUTO_WORKERS', () => {
    expect(workerCount(3, () => 8)).toBe(3);
    expect(workerCount(0, () => 8)).toBe(8);
    expect(workerCount(0, () => 64)).toBe(MAX_AUTO_WORKERS);
    expect(workerCount(16, () => 64)).toBe(16);
  });
});
