/**
 * Runs a real Envoy binary with the same bootstrap when one is available (`ENVOY_BIN`, or `envoy`
 * on PATH), exposing the simulator's API shape. The admin address is learnt through
 * `--admin-address-path`, listener ports through admin `/listeners?format=json`, readiness through
 * admin `/ready`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { EnvoyHandle, ListenerInfo } from './handle';
import { sumCounters } from './handle';
import type { Knobs } from './knobs';
import { isObj, type Obj } from './proto-values';
import { startEnvoySim, type EnvoySim } from './simulator';
import { parse as parseYaml } from 'yaml';

/** Path of a usable Envoy binary, or undefined. */
export function findEnvoyBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ENVOY_BIN) return env.ENVOY_BIN;
  const r = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

let nextBaseId = 1000 + (process.pid % 5000) * 10;

export interface RealEnvoyOptions {
  binary?: string;
  readyTimeoutMs?: number;
  logLevel?: string;
}

export async function startRealEnvoy(
  bootstrap: string | Obj,
  opts: RealEnvoyOptions = {},
): Promise<EnvoyHandle> {
  const binary = opts.binary ?? findEnvoyBinary();
  if (!binary) throw new Error('no envoy binary (set ENVOY_BIN or put envoy on PATH)');
  const config: Obj =
    typeof bootstrap === 'string' ? (parseYaml(bootstrap) as Obj) : structuredClone(bootstrap);
  if (!isObj(config.admin))
    config.admin = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoy-real-'));
  const file = path.join(dir, 'envoy.yaml');
  const adminPath = path.join(dir, 'admin-address');
  fs.writeFileSync(file, stringify(config));
  const child: ChildProcess = spawn(
    binary,
    [
      '-c',
      file,
      '--base-id',
      String(nextBaseId++),
      '--admin-address-path',
      adminPath,
      '-l',
      opts.logLevel ?? 'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const adminUrl = await waitReady(adminPath, () => exited, opts.readyTimeoutMs ?? 20_000);
    const listeners = await readListeners(adminUrl);
    const readStats = async () => {
      const r = await fetch(`${adminUrl}/stats?format=json`);
      const body = (await r.json()) as { stats: { name: string; value?: number }[] };
      return Object.fromEntries(
        body.stats.filter((s) => typeof s.value === 'number').map((s) => [s.name, s.value as number]),
      );
    };
    return {
      kind: 'real',
      listeners,
      adminUrl,
      readStats,
      counter: async (name) => sumCounters(await readStats(), name),
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(adminPath: string, exited: () => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('envoy exited before becoming ready');
    if (fs.existsSync(adminPath)) {
      const addr = fs.readFileSync(adminPath, 'utf8').trim();
      if (addr) {
        const url = `http://${addr}`;
        const ok = await fetch(`${url}/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return url;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`envoy not ready after ${timeoutMs} ms`);
}

async function readListeners(adminUrl: string): Promise<ListenerInfo[]> {
  const r = await fetch(`${adminUrl}/listeners?format=json`);
  const body = (await r.json()) as {
    listener_statuses?: {
      name: string;
      local_address?: { socket_address?: { address: string; port_value: number } };
    }[];
  };
  return (body.listener_statuses ?? []).map((l) => {
    const sa = l.local_address?.socket_address;
    const host = !sa || sa.address === '0.0.0.0' ? '127.0.0.1' : sa.address;
    return { name: l.name, url: `http://${host}:${sa?.port_value ?? 0}` };
  });
}

/**
 * Real Envoy when available (and not disabled with ENVOY_SIM=1), else the simulator. The knobs only
 * affect the simulator.
 */
export async function startEnvoy(
  bootstrap: string | Obj,
  knobs: Partial<Knobs> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<EnvoyHandle | EnvoySim> {
  const binary = env.ENVOY_SIM === '1' ? undefined : findEnvoyBinary(env);
  return binary ? startRealEnvoy(bootstrap, { binary }) : startEnvoySim(bootstrap, knobs);
}
