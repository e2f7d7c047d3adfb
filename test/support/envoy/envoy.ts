/**
 * A real Envoy for the tests, the demo and the benchmarks: the binaries scripts/install-envoy.sh
 * puts under .envoy/<version>/ (the releases of scripts/envoy-versions), `ENVOY_BIN` for the newest
 * (or an `envoy` on PATH whose release is supported). There is no fallback: without a binary the
 * caller gets an error that says how to install one.
 *
 * Each Envoy runs with --disable-hot-restart (no shared memory, so any number run side by side),
 * logs to a file whose tail is attached to errors, and tells its admin address through
 * --admin-address-path. Stats are read from the admin endpoint.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../clients/geosync-cli';
import { logTail, sleep, spawnManaged, type ManagedProcess } from '../process';
import { locateEnvoy, parseEnvoyVersion } from '../../../src/envoy/binary';

export type EnvoyRelease = 'newest' | 'oldest';

export interface EnvoyBinary {
  readonly path: string;
  /** "1.40.0" */
  readonly version: string;
}

/** The pinned releases, from scripts/envoy-versions. */
export function pinnedVersions(): Record<EnvoyRelease, string> {
  const text = fs.readFileSync(path.join(ROOT, 'scripts/envoy-versions'), 'utf8');
  const read = (key: string) => {
    const m = new RegExp(`^${key}=(\\S+)$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`scripts/envoy-versions has no ${key}=`);
    return m[1];
  };
  return { newest: read('NEWEST'), oldest: read('OLDEST') };
}

function versionOf(binary: string): string | undefined {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return parseEnvoyVersion(`${r.stdout}${r.stderr}`);
}

function minor(version: string): number {
  const [major = 0, m = 0] = version.split('.').map(Number);
  return major * 1000 + m;
}

const cache = new Map<EnvoyRelease, EnvoyBinary>();

/**
 * The binary of a release. `newest`: ENVOY_BIN, else an `envoy` on PATH whose release is at least
 * the oldest supported one, else the pinned install. `oldest`: the pinned install.
 */
export function envoyBinary(release: EnvoyRelease = 'newest', env = process.env): EnvoyBinary {
  const cached = cache.get(release);
  if (cached) return cached;
  const pinned = pinnedVersions();
  const candidates: string[] = [];
  if (release === 'newest') {
    if (env.ENVOY_BIN) candidates.push(env.ENVOY_BIN);
    const onPath = locateEnvoy({ PATH: env.PATH });
    if (onPath && !env.ENVOY_BIN) candidates.push(onPath);
  }
  candidates.push(path.join(ROOT, '.envoy', pinned[release], 'bin', 'envoy'));
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue;
    const version = versionOf(candidate);
    if (!version) continue;
    const explicit = candidate === env.ENVOY_BIN;
    if (!explicit && release === 'newest' && minor(version) < minor(pinned.oldest)) continue;
    const found = { path: candidate, version };
    cache.set(release, found);
    return found;
  }
  throw new Error(
    `no Envoy binary for the ${release} release (${pinned[release]}): run scripts/install-envoy.sh ` +
      '(npm test and npm run demo do), or set ENVOY_BIN',
  );
}

export interface EnvoyProcess {
  readonly binary: EnvoyBinary;
  /** Its process id (the benchmark reads its CPU time from /proc). */
  readonly pid: number;
  readonly adminUrl: string;
  /** The listeners by name, as `http://host:port` Envoy actually bound. */
  readonly listeners: ReadonlyMap<string, string>;
  readonly logFile: string;
  /** Every counter and gauge, by full name. */
  stats(): Promise<Map<string, number>>;
  /** One stat by full name (0 when Envoy has not created it), or the sum of the names a RegExp matches. */
  stat(name: string | RegExp): Promise<number>;
  /** SIGTERM and wait; rejects when Envoy does not exit cleanly (its log tail attached). */
  close(): Promise<void>;
}

export interface StartEnvoyOptions {
  readonly release?: EnvoyRelease;
  /** Where the bootstrap copy, the log and the admin address file go. */
  readonly dir: string;
  readonly name?: string;
  /** Default: `GEOSYNC_TEST_ENVOY_LOG` (e.g. `debug`, to read why ext_proc answered itself), else `warn`. */
  readonly logLevel?: string;
  readonly readyTimeoutMs?: number;
}

/** One counter of a stats snapshot (0 when absent), or the sum of those whose names match. */
export function statValue(stats: ReadonlyMap<string, number>, pattern: string | RegExp): number {
  if (typeof pattern === 'string') return stats.get(pattern) ?? 0;
  let sum = 0;
  for (const [k, v] of stats) if (pattern.test(k)) sum += v;
  return sum;
}

/** Starts Envoy on a bootstrap (YAML text, unchanged) and waits until its admin says it is live. */
export async function startEnvoy(bootstrap: string, opts: StartEnvoyOptions): Promise<EnvoyProcess> {
  const binary = envoyBinary(opts.release ?? 'newest');
  const name = opts.name ?? 'envoy';
  fs.mkdirSync(opts.dir, { recursive: true });
  const config = path.join(opts.dir, `${name}.yaml`);
  const adminPath = path.join(opts.dir, `${name}.admin-address`);
  fs.writeFileSync(config, bootstrap);
  fs.rmSync(adminPath, { force: true });
  const proc = spawnManaged(
    name,
    binary.path,
    [
      '-c',
      config,
      '--disable-hot-restart',
      '--admin-address-path',
      adminPath,
      '-l',
      opts.logLevel ?? process.env.GEOSYNC_TEST_ENVOY_LOG ?? 'warn',
    ],
    { logDir: opts.dir },
  );
  try {
    const adminUrl = await waitLive(proc, adminPath, opts.readyTimeoutMs ?? 30_000);
    const listeners = await readListeners(adminUrl);
    const stats = () => readStats(adminUrl);
    return {
      binary,
      pid: proc.pid,
      adminUrl,
      listeners,
      logFile: proc.logFile,
      stats,
      stat: async (pattern) => statValue(await stats(), pattern),
      close: () => stopEnvoy(proc),
    };
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}

async function waitLive(proc: ManagedProcess, adminPath: string, timeoutMs: number): Promise<string> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  let last = 'no admin address yet';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited at start:\n${logTail(proc.logFile)}`);
    const address = fs.existsSync(adminPath) ? fs.readFileSync(adminPath, 'utf8').trim() : '';
    if (address) {
      const url = `http://${address}`;
      try {
        // /ready answers 200 once the server is LIVE: every static cluster and listener is up.
        const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return url;
        last = `/ready answered ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    await sleep(50);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms (${last}):\n${logTail(proc.logFile)}`);
}

async function stopEnvoy(proc: ManagedProcess): Promise<void> {
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  await proc.stop(10_000);
  await Promise.race([proc.exited, sleep(1000)]);
  // Envoy exits 0 on SIGTERM; anything else (a crash, a kill after the grace period) is a failure.
  if (code !== 0)
    throw new Error(`${proc.name} did not exit cleanly (exit ${code}):\n${logTail(proc.logFile)}`);
}

async function readListeners(adminUrl: string): Promise<Map<string, string>> {
  const res = await fetch(`${adminUrl}/listeners?format=json`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as {
    listener_statuses?: {
      name: string;
      local_address?: { socket_address?: { address: string; port_value: number } };
    }[];
  };
  const out = new Map<string, string>();
  for (const l of body.listener_statuses ?? []) {
    const sa = l.local_address?.socket_address;
    if (!sa) continue;
    const host = sa.address === '0.0.0.0' ? '127.0.0.1' : sa.address;
    out.set(l.name, `http://${host}:${sa.port_value}`);
  }
  return out;
}

async function readStats(adminUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${adminUrl}/stats?format=json`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { stats: { name: string; value?: number }[] };
  const out = new Map<string, number>();
  for (const s of body.stats) if (typeof s.value === 'number') out.set(s.name, s.value);
  return out;
}

/**
 * Envoy's stat names geosync's tests and operators read. The ext_proc filter's counters carry a
 * different prefix before Envoy 1.40 when the filter is wrapped in the match-delegate filter
 * (`cluster.local_registry.cluster.local_registryext_proc.<name>` on 1.37-1.39), so they are
 * matched by pattern.
 */
export const ENVOY_STAT = {
  extProc: (name: string) =>
    new RegExp(`^cluster\\.local_registry\\.(?:cluster\\.local_registry)?ext_proc\\.${name}$`),
  redirectsFollowed: 'cluster.local_registry.upstream_internal_redirect_succeeded_total',
  redirectsFailed: 'cluster.local_registry.upstream_internal_redirect_failed_total',
  upstreamRequests: (cluster: string) => `cluster.${cluster}.upstream_rq_total`,
  noRoute: 'http.registry_ingress.no_route',
  downstreamRequests: 'http.registry_ingress.downstream_rq_total',
} as const;
