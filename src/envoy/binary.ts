/**
 * A real Envoy binary, when the machine has one: `ENVOY_BIN`, else `envoy` on PATH. Used by
 * `geosync envoy-config --check` to run `envoy --mode validate`, the only complete check of a
 * bootstrap (every extension's own validation, cluster and listener construction).
 * https://www.envoyproxy.io/docs/envoy/latest/operations/cli#cmdoption-mode
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface EnvoyBinaryEnv {
  readonly ENVOY_BIN?: string | undefined;
  readonly PATH?: string | undefined;
}

/** Path of the Envoy binary to use, or undefined when there is none. */
export function locateEnvoy(env: EnvoyBinaryEnv): string | undefined {
  if (env.ENVOY_BIN) return env.ENVOY_BIN;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'envoy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface EnvoyRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs the binary with a deadline: a hung Envoy is killed and reported, never waited on. */
export function runEnvoy(binary: string, args: readonly string[], timeoutMs: number): Promise<EnvoyRun> {
  return new Promise((resolve) => {
    execFile(binary, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!err) return resolve({ code: 0, output });
      const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
      if (e.killed)
        return resolve({ code: null, output: `${output}envoy did not finish within ${timeoutMs} ms\n` });
      if (typeof e.code === 'number') return resolve({ code: e.code, output });
      resolve({ code: null, output: `${output}cannot run ${binary}: ${String(e.code ?? e.message)}\n` });
    });
  });
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
