/**
 * The OCI clients other than skopeo, as their users run them: `crane` (go-containerregistry),
 * `regctl` (regclient), `oras`, and containerd's own resolver, fetcher and pusher (a small Go
 * program on containerd's core/remotes/docker, test/support/clients/containerd-client/). Built and pinned
 * by scripts/install-clients.sh into .tools/ (git-ignored); scripts/test.sh runs it first.
 * Every client talks plain HTTP to loopback registries and asks the registry's token server for
 * tokens itself (anonymously), each for the scope it means to use. toolPath also finds the servers
 * that script builds (distribution v3's `registry`, `fake-gcs-server`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../process';
import { skopeoCopy } from './skopeo';
import { ROOT } from './geosync-cli';

/** The tools scripts/install-clients.sh builds (scripts/client-versions names their versions). */
export type ToolName =
  | 'crane'
  | 'regctl'
  | 'oras'
  | 'containerd-client'
  | 'registry'
  | 'fake-gcs-server'
  | 'helm'
  | 'cosign'
  | 'egctl';

/**
 * The path of a tool scripts/install-clients.sh built, `.tools/<name>/<version>/<name>`, at the
 * version scripts/client-versions pins; throws naming the script when it is missing.
 */
export function toolPath(name: ToolName): string {
  const versions = fs.readFileSync(path.join(ROOT, 'scripts', 'client-versions'), 'utf8');
  const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(versions);
  if (!m) throw new Error(`scripts/client-versions names no ${name}`);
  let version = m[1] as string;
  if (name === 'containerd-client') {
    // Keyed by its sources as well (scripts/install-clients.sh, sources_key).
    const src = path.join(ROOT, 'test', 'support', 'clients', 'containerd-client');
    const hash = crypto.createHash('sha256');
    for (const f of ['main.go', 'go.mod', 'go.sum']) hash.update(fs.readFileSync(path.join(src, f)));
    version += `-${hash.digest('hex').slice(0, 12)}`;
  }
  const bin = path.join(ROOT, '.tools', name, version, name);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run scripts/install-clients.sh`);
  return bin;
}

const TIMEOUT_MS = 90_000;

/** A per-test home, so no client reads or writes the user's own configuration or credentials. */
export function clientHome(): { env: NodeJS.ProcessEnv; remove(): void } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-clients-'));
  const env = {
    ...process.env,
    HOME: home,
    DOCKER_CONFIG: path.join(home, '.docker'),
    REGCTL_CONFIG: path.join(home, 'regctl.json'),
  };
  return { env, remove: () => fs.rmSync(home, { recursive: true, force: true }) };
}

export type Env = NodeJS.ProcessEnv;

export const crane = (args: string[], env: Env) =>
  run(toolPath('crane'), [...args, '--insecure'], { timeoutMs: TIMEOUT_MS, env });

/** regctl wants each plain-HTTP registry declared once (`registry set --tls disabled`). */
export async function regctl(args: string[], env: Env, hosts: readonly string[]) {
  for (const h of hosts) {
    await run(toolPath('regctl'), ['registry', 'set', '--tls', 'disabled', h], {
      timeoutMs: TIMEOUT_MS,
      env,
    });
  }
  return run(toolPath('regctl'), args, { timeoutMs: TIMEOUT_MS, env });
}

/** `cwd`: where the files `oras push`/`attach` name are (oras refuses absolute paths). */
export const oras = (args: string[], env: Env, cwd?: string) =>
  run(toolPath('oras'), args, { timeoutMs: TIMEOUT_MS, env, ...(cwd ? { cwd } : {}) });

/** `containerd-client resolve|pull|copy ...` (test/support/clients/containerd-client/main.go). */
export const containerdClient = (args: string[], env: Env) =>
  run(toolPath('containerd-client'), args, { timeoutMs: TIMEOUT_MS, env });

/** The clients that copy an image from one registry to another, each as its users run it. */
export const COPY_CLIENTS = ['skopeo', 'crane', 'regctl', 'oras', 'containerd'] as const;

/** Copies `src` to `dst` (`host/repository:tag`, both registries plain HTTP) with `client`. */
export function copyImage(client: (typeof COPY_CLIENTS)[number], src: string, dst: string, env: Env) {
  const hosts = [src, dst].map((r) => r.slice(0, r.indexOf('/')));
  switch (client) {
    case 'skopeo':
      return skopeoCopy(src, dst, env);
    case 'crane':
      return crane(['copy', src, dst], env);
    case 'regctl':
      return regctl(['image', 'copy', src, dst], env, hosts);
    case 'oras':
      return oras(['cp', '--from-plain-http', '--to-plain-http', src, dst], env);
    case 'containerd':
      return containerdClient(['copy', src, dst], env);
  }
}
