/**
 * One deployment per end-to-end file (stacks/deployment.ts), started before its tests and stopped
 * after them, with the defaults users get; and the file's temporary directories.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../../../src/config/defaults';
import {
  startDeployment,
  type Deployment,
  type DeploymentOptions,
  type RegionDeployment,
} from './deployment';

/**
 * geosync's lookup deadline in the end-to-end deployments: its default (`lookupTimeoutMs`, the
 * shortest per-region deadline; `lookupTimeoutMaxMs` the longest), what users get. A suite that
 * fails on it has found a product problem, not a setting for the test to raise.
 */
export const E2E_LOOKUP_TIMEOUT_MS = DEFAULTS.lookupTimeoutMs;

/** Temporary directories of one test file, removed by `removeAll()` in afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `geosync-e2e-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** What one e2e file runs against; `d`, `a`, `b` and `c` are usable inside its hooks and tests. */
export interface E2eDeployment {
  readonly d: Deployment;
  readonly a: RegionDeployment;
  readonly b: RegionDeployment;
  readonly c: RegionDeployment;
  readonly tmp: TempDirs;
}

/**
 * Starts the file's deployment before its tests (after any beforeAll registered earlier, which
 * `options` as a function can read) and stops it, and removes its temporary directories, after
 * them. Every geosync setting is geosync's default (the lookup deadlines included), except
 * `workers`: one (a single process), unless the file is about workers and says how many. Each
 * worker is a process that loads the whole program, and a suite that is not about them would pay
 * a supervisor and a worker per core in every region for nothing.
 */
export function useDeployment(options: DeploymentOptions | (() => DeploymentOptions)): E2eDeployment {
  let started: Deployment | undefined;
  const tmp = new TempDirs();
  beforeAll(async () => {
    const opts = typeof options === 'function' ? options() : options;
    started = await startDeployment({ workers: 1, ...opts });
  });
  afterAll(async () => {
    try {
      await started?.stop();
    } finally {
      tmp.removeAll();
    }
  });
  const deployment = (): Deployment => {
    if (!started) throw new Error('the deployment starts in beforeAll: use it in hooks and tests');
    return started;
  };
  return {
    d: view(deployment),
    a: view(() => deployment().region('a')),
    b: view(() => deployment().region('b')),
    c: view(() => deployment().region('c')),
    tmp,
  };
}

/** An object that reads every property from `target()` when it is used, not when it is made. */
function view<T extends object>(target: () => T): T {
  return new Proxy({} as T, {
    get: (_, key) => {
      const t = target();
      const value: unknown = Reflect.get(t, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
