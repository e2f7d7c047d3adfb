/**
 * A real Envoy binary, when the machine has one. `geosync envoy-config --check` runs
 * `envoy --mode validate` with it: the only complete check of a bootstrap (every extension's own
 * validation, cluster and listener construction, files read), exact for the release that runs.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/cli#cmdoption-mode
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface EnvoyBinaryEnv {
  readonly ENVOY_BIN?: string | undefined;
  readonly PATH?: string | undefined;
}

/** `ENVOY_BIN`, else `envoy` on PATH; undefined when there is neither. */
export function locateEnvoy(env: EnvoyBinaryEnv): string | undefined {
  if (env.ENVOY_BIN) return env.ENVOY_BIN;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'envoy');
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * As the tests find Envoy: `ENVOY_BIN`, `envoy` on PATH, then the newest release that
 * scripts/install-envoy.sh put under `<checkout>/.envoy/<version>/bin/envoy`.
 */
export function findEnvoy(env: EnvoyBinaryEnv, checkout: string): string | undefined {
  const located = locateEnvoy(env);
  if (located) return located;
  let versions: string[];
  try {
    versions = readdirSync(path.join(checkout, '.envoy')).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => compareVersions(b, a));
  return versions.map((v) => path.join(checkout, '.envoy', v, 'bin', 'envoy')).find(executable);
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Orders "1.40.0" after "1.38.3" (numerically, part by part). */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface EnvoyRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs the binary with a deadline: a hung Envoy is killed and reported, never waited on. Its
 * output goes to a file, not to a Node pipe: Node's child pipes are sockets, and Envoy cannot
 * open /dev/stdout on a socket (ENXIO), which the default access log path needs.
 */
export async function runEnvoy(
  binary: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<EnvoyRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'geosync-envoy-run-'));
  const logFile = path.join(dir, 'output');
  const fd = openSync(logFile, 'w');
  try {
    const code = await new Promise<number | null | string>((resolve) => {
      const child = spawn(binary, [...args], { stdio: ['ignore', fd, fd] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('timeout');
      }, timeoutMs);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(`cannot run ${binary}: ${err.code ?? err.message}`);
      });
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const output = readFileSync(logFile, 'utf8');
    if (code === 'timeout')
      return { code: null, output: `${output}envoy did not finish within ${timeoutMs} ms\n` };
    if (typeof code === 'string') return { code: null, output: `${output}${code}\n` };
    return { code, output };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "1.40.0" from `envoy --version` ("envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"). */
export function parseEnvoyVersion(output: string): string | undefined {
  return /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

export async function envoyVersion(binary: string, timeoutMs = 10_000): Promise<string | undefined> {
  const run = await runEnvoy(binary, ['--version'], timeoutMs);
  return run.code === 0 ? parseEnvoyVersion(run.output) : undefined;
}

/** `envoy --mode validate -c FILE`: exit 0 and "configuration 'FILE' OK", or Envoy's own error. */
export async function validateWithEnvoy(binary: string, file: string, timeoutMs = 30_000): Promise<EnvoyRun> {
  return runEnvoy(binary, ['--mode', 'validate', '-c', file, '-l', 'error'], timeoutMs);
}
