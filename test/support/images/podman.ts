/**
 * Rootful podman (Debian's 4.3, runc) for the container tests, configured only by the files
 * scripts/install-podman.sh writes under .podman/ (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF):
 * nothing machine-wide is read or written but the image store that configuration names.
 * Commands can run inside a network namespace of the test's (nsenter), so that what a container
 * listens on is reachable there only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../clients/geosync-cli';
import { logTail, run, sleep, spawnManaged } from '../process';

export const PODMAN_DIR = path.join(ROOT, '.podman');

/** What scripts/install-podman.sh made: the base images and the npm of the build stand-in. */
export interface PodmanSetup {
  /** Debian trixie with a shell (the build stage's base). */
  readonly baseBuild: string;
  /** Debian trixie's libraries, a nonroot user, no shell (the distroless-like base). */
  readonly baseRuntime: string;
  /** npm's package tarball, the release the locked Node bundles. */
  readonly npmTgz: string;
}

let setup: PodmanSetup | undefined;

/** The set-up, or an error that says what is missing and how to get it. */
export function podmanSetup(): PodmanSetup {
  if (setup) return setup;
  if (process.getuid?.() !== 0) {
    throw new Error('the container tests run rootful podman and make network namespaces: run them as root');
  }
  const file = path.join(PODMAN_DIR, 'bases.env');
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/install-podman.sh (npm test does)`);
  }
  const values = new Map(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const need = (key: string): string => {
    const v = values.get(key);
    if (!v) throw new Error(`${file} names no ${key}: run scripts/install-podman.sh`);
    return v;
  };
  setup = {
    baseBuild: need('BASE_BUILD'),
    baseRuntime: need('BASE_RUNTIME'),
    npmTgz: path.join(ROOT, need('NPM_TGZ')),
  };
  return setup;
}

export function podmanEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_CONF: path.join(PODMAN_DIR, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(PODMAN_DIR, 'storage.conf'),
  };
}

export interface PodmanOptions {
  readonly timeoutMs: number;
  /** A network namespace (`ip netns` name) to run podman in; its containers with `host`
   * networking then share that namespace. */
  readonly netns?: string;
}

/** The command line that runs `command args` in `netns` (or as it is). */
export function inNetns(
  netns: string | undefined,
  command: string,
  args: readonly string[],
): [string, string[]] {
  return netns ? ['nsenter', [`--net=/run/netns/${netns}`, command, ...args]] : [command, [...args]];
}

/** Runs podman to completion; rejects with its output when it fails. */
export function podman(
  args: readonly string[],
  opts: PodmanOptions,
): Promise<{ stdout: string; stderr: string }> {
  podmanSetup();
  const [command, full] = inNetns(opts.netns, 'podman', args);
  return run(command, full, { timeoutMs: opts.timeoutMs, env: podmanEnv() });
}

/**
 * Runs a long podman command (a build) with its output in `.podman/logs/<name>.log`; rejects with
 * the log's tail when it fails or passes its deadline.
 */
export async function podmanLogged(name: string, args: readonly string[], timeoutMs: number): Promise<void> {
  podmanSetup();
  const logDir = path.join(PODMAN_DIR, 'logs');
  fs.rmSync(path.join(logDir, `${name}.log`), { force: true });
  const proc = spawnManaged(name, 'podman', args, { logDir, env: podmanEnv() });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  const outcome = await Promise.race([proc.exited, deadline]).finally(() => clearTimeout(timer));
  if (outcome === 'timeout') {
    await proc.stop();
    throw new Error(
      `podman ${args[0]} (${name}) did not finish within ${timeoutMs} ms:\n${logTail(proc.logFile)}`,
    );
  }
  if (outcome !== 0) {
    throw new Error(`podman ${args[0]} (${name}) exited ${outcome}:\n${logTail(proc.logFile, 4000)}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` while holding the lock `name` (a directory under .podman/), so that the test files
 * that need the same images, run by parallel jest workers, build them once: the second waits,
 * then finds every layer cached. A lock whose holder has died is taken over.
 */
export async function withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(PODMAN_DIR, `${name}.lock`);
  const pidFile = path.join(dir, 'pid');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = fs.statSync(dir, { throwIfNoEntry: false });
    if (!held) continue;
    const holder = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8') : 0);
    // No pid yet: its holder is between mkdir and the write, unless it died there long ago.
    const orphaned = holder === 0 && Date.now() - held.mtimeMs > 60_000;
    if ((holder > 0 && !alive(holder)) || orphaned) {
      fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${dir}: still held by pid ${holder} after ${timeoutMs} ms`);
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
