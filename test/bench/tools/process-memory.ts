/** Resident memory and CPU time of another process, from /proc/<pid>/ (Linux). */
import fs from 'node:fs';

/** VmRSS in bytes; NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; `stop()` returns the peak seen. */
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

/** CPU time (user + system) a process has used so far, in seconds; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on Linux for x86_64 and arm64. */
const CLOCK_TICKS = 100;
