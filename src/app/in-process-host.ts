/**
 * One engine in the instance's own process (`listen.workers: 1`, a pod with one core): its
 * pulls go to the instance by a direct call, and there is no other engine to hand its tag
 * verdicts and found manifests to.
 */
import type { AdminRoute } from '../admin/server';
import type { GeosyncConfig } from '../config/types';
import { runningFsCalls } from '../storage/fs-calls';
import { startEngine, type Engine, type EngineDeps } from './engine';
import type { EngineHost } from './host';

export type InProcessDeps = Omit<EngineDeps, 'port' | 'checksStorage'> & {
  /** This process's GET /metrics (its samples are the engine's and the instance's). */
  readonly metrics?: AdminRoute;
};

export function inProcessHost(config: GeosyncConfig, deps: InProcessDeps): EngineHost {
  const { metrics, ...engineDeps } = deps;
  let engine: Engine | undefined;
  return {
    async start(pullDecided) {
      engine = await startEngine(config, {
        ...engineDeps,
        port: { pullDecided, learnt: () => {}, manifestFound: () => {} },
        checksStorage: true,
      });
    },
    // Its start either resolves or rejects: nothing fails later.
    failed: new Promise<string>(() => {}),
    ready: () => engine !== undefined,
    drain: () => engine?.startDraining(),
    async stop(graceMs) {
      await engine?.close(graceMs);
      return runningFsCalls();
    },
    exited: async () => {},
    ...(metrics ? { metrics } : {}),
  };
}
