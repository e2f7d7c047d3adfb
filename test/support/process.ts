/**
 * Child processes for real test components (Swift, memcached, distribution). Each one runs in its
 * own process group (`detached` calls setsid on Linux) because Swift's servers fork workers:
 * stopping the group stops them all. Output goes to a log file whose tail is attached to start-up
 * errors. Groups still alive when the test process exits are killed, so a failed test does not
 * leave servers behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Agent, fetch } from 'undici';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killManaged);
}

/** Kills every process group spawnManaged started in this process and has not stopped. */
export function killManaged(): void {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
}

/** Signals every process of a group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  opts: { logDir: string; cwd?: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  installExitHook();
  fs.mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  liveGroups.add(pid);
  child.unref();
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 3000): Promise<void> => {
    stopping ??= (async () => {
      killGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    })();
    return stopping;
  };
  return { name, pid, logFile, exited, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `bytes` of a log, for error messages. */
export function logTail(file: string, bytes = 2000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '(no log)';
  }
}

/** The error of a wait whose process exited first: its server never came up (a taken port, a crash). */
export class ExitedBeforeReady extends Error {}

/**
 * Polls `url` until `ready(status)` holds or the deadline passes. `proc`, when given, makes the
 * wait fail fast if the process exits first (a bad config exits at once; waiting would only hide
 * the log).
 */
export async function waitForHttp(
  url: string,
  opts: { timeoutMs: number; ready?: (status: number) => boolean; proc?: ManagedProcess; caFile?: string },
): Promise<void> {
  // A server whose certificate only a private CA signs is asked trusting that CA.
  const dispatcher = opts.caFile
    ? new Agent({ connect: { ca: fs.readFileSync(opts.caFile, 'utf8') } })
    : undefined;
  const ready = opts.ready ?? ((s: number) => s >= 200 && s < 500);
  const deadline = Date.now() + opts.timeoutMs;
  let exited = false;
  void opts.proc?.exited.then(() => (exited = true));
  let last = 'no answer';
  try {
    while (Date.now() < deadline) {
      if (exited && opts.proc) {
        throw new ExitedBeforeReady(
          `${opts.proc.name} exited before ${url} answered:\n${logTail(opts.proc.logFile)}`,
        );
      }
      try {
        const res = await fetch(url, {
          signal: AbortSignal.timeout(1000),
          ...(dispatcher ? { dispatcher } : {}),
        });
        await res.arrayBuffer();
        if (ready(res.status)) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
  } finally {
    await dispatcher?.close();
  }
  const log = opts.proc ? `\n${logTail(opts.proc.logFile)}` : '';
  throw new Error(`${url} not ready after ${opts.timeoutMs} ms (${last})${log}`);
}

/** Polls `check` every 100 ms until it holds; past `timeoutMs`, fails naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Polls until a TCP connection to host:port succeeds or the deadline passes. `proc`, when given,
 * makes the wait fail fast (ExitedBeforeReady) if the process exits first, and puts its log in
 * either error.
 */
export async function waitForTcp(
  host: string,
  port: number,
  timeoutMs: number,
  proc?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc?.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited && proc) {
      throw new ExitedBeforeReady(
        `${proc.name} exited before ${host}:${port} accepted connections:\n${logTail(proc.logFile)}`,
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.setTimeout(500);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  const log = proc ? `\n${proc.name}: ${logTail(proc.logFile)}` : '';
  throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms${log}`);
}

/** Runs a command to completion with a deadline; rejects with its output on failure. */
export function run(
  command: string,
  args: readonly string[],
  opts: {
    timeoutMs: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    input?: string;
    /** Sent first at the deadline, for a command that stops its own servers on it; SIGKILL 10 s later. */
    stopSignal?: NodeJS.Signals;
  },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      const pid = child.pid;
      if (pid !== undefined && opts.stopSignal) {
        killGroup(pid, opts.stopSignal);
        setTimeout(() => killGroup(pid, 'SIGKILL'), 10_000).unref();
      } else if (pid !== undefined) killGroup(pid, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${opts.timeoutMs} ms\n${stderr}`));
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr}${stdout}`));
    });
    // A command that exits without reading its input (htpasswd) closes the pipe first: the write
    // then fails with EPIPE, which must not become an uncaught error; the exit code decides.
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') stderr += `stdin: ${err.message}\n`;
    });
    child.stdin.end(opts.input ?? '');
  });
}
