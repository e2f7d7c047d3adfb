/** Runs the built `geosync` CLI (dist/, made by `npm run build`) as a real process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../../../src/cli/command';

/**
 * The repository root (found from here, so this also works when compiled into build/ for the demo
 * and the bench). build/ holds a package.json and a src/ too (tsconfig.demo.json), but no lockfile.
 */
export const ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package-lock.json')) && existsSync(path.join(dir, 'src'))) return dir;
  }
  throw new Error(`no repository root above ${from}`);
}
const MAIN = path.join(ROOT, 'dist/main.js');

function ensureBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (scripts/test.sh does)`);
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `geosync ARGS` to completion (with a deadline). */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
): Promise<CliRun> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`geosync ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/**
 * `geosync envoy-config ARGS` in this process: the built command (dist/cli/envoy-config.js), the
 * code the CLI runs for it, without starting Node for it. A CLI run loads every command's modules
 * (dist/main.js: about 1 s of CPU on these 2 cores, four times what this command needs), and
 * every region of every deployment generated its bootstrap that way. What the CLI itself does
 * (dispatch, flags, exit codes, --output) is tested on the real process
 * (test/integration/envoy/check-cli.test.ts, test/integration/deploy/).
 */
export async function runEnvoyConfig(args: readonly string[]): Promise<CliRun> {
  ensureBuilt();
  const { envoyConfigCommand } = (await import(path.join(ROOT, 'dist/cli/envoy-config.js'))) as {
    envoyConfigCommand: Command;
  };
  let stdout = '';
  let stderr = '';
  const code = await envoyConfigCommand.run(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    terminated: new Promise<string>(() => undefined),
  });
  return { code, stdout, stderr };
}

/** Starts `geosync serve --config FILE` in the background. */
export function startServe(configFile: string, env: NodeJS.ProcessEnv = {}): ServeProcess {
  ensureBuilt();
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', configFile], {
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls `url` until it answers `status` (or throws after `timeoutMs`). */
export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === status) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
