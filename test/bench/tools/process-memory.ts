/**
 * Resident memory and CPU time of another process and its descendants (geosync's supervisor and
 * its workers, src/workers/), and the CPU time of the whole machine, from /proc (Linux).
 */
import fs from 'node:fs';

/** `pid` and every process below it, from each process's parent in /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const parent = Number(fields[1]);
    const children = parents.get(parent) ?? [];
    children.push(Number(entry));
    parents.set(parent, children);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(parents.get(next) ?? []));
  }
  return tree;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces); undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function ownRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmRSS in bytes of the process and its descendants; NaN when the process is gone. */
export function rssBytes(pid: number): number {
  if (!statFields(pid)) return NaN;
  return processTree(pid).reduce((sum, p) => sum + ownRss(p), 0);
}

/** Samples the tree's RSS every `intervalMs` until stopped; `stop()` returns the peak seen. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const last = rssBytes(pid);
      return Math.max(peak, Number.isNaN(last) ? 0 : last);
    },
  };
}

/**
 * CPU time (user + system) the process and its live descendants have used so far, in seconds;
 * NaN when the process is gone.
 */
export function cpuSeconds(pid: number): number {
  if (!statFields(pid)) return NaN;
  let total = 0;
  for (const p of processTree(pid)) {
    const fields = statFields(p);
    // utime and stime are the 12th and 13th fields after the command name.
    if (fields) total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
  return total;
}

/** sysconf(_SC_CLK_TCK): 100 on Linux for x86_64 and arm64. */
const CLOCK_TICKS = 100;

/**
 * CPU time every process on the machine has used since boot, in seconds: user, nice, system, irq
 * and softirq of /proc/stat's `cpu` line (idle and iowait are not work; steal is the hypervisor's).
 * A herd's delta against its wall time × the cores says whether the machine, not one process, was
 * the limit.
 * https://www.kernel.org/doc/html/latest/filesystems/proc.html (1.7 Miscellaneous kernel statistics)
 */
export function machineCpuSeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / CLOCK_TICKS;
}
