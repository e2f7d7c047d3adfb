/**
 * One worker of `geosync serve`: an engine (src/app/engine.ts) on the gRPC address every worker
 * shares (node:cluster hands each accepted connection to one worker,
 * https://nodejs.org/api/cluster.html), with its own locator, caches and metrics; its port to the
 * instance is the IPC channel (tag-freshness verdicts and found manifests are shared through the
 * supervisor, supervisor.ts). The supervisor drives its life: it says when to drain and when to
 * stop, and asks for its metrics. Signals are the supervisor's to handle; a worker whose
 * supervisor is gone closes at once.
 */
import { startEngine, type Engine } from '../app/engine';
import { processEnv, type Env } from '../config/env';
import type { GeosyncConfig } from '../config/types';
import type { Logger } from '../log/logger';
import { runningFsCalls } from '../storage/fs-calls';
import type { Telemetry } from '../telemetry/sdk';
import { isToWorker, type ToSupervisor, type ToWorker } from './messages';

/** The supervisor tells each worker its slot (0 … workers-1; a restarted worker keeps its slot). */
export const WORKER_INDEX_VARIABLE = 'GEOSYNC_WORKER_INDEX';

/** This worker's slot, for its logs; -1 when the supervisor did not say. */
export function workerIndex(env: Env = processEnv()): number {
  const index = Number(env[WORKER_INDEX_VARIABLE]);
  return Number.isInteger(index) && index >= 0 ? index : -1;
}

/** The IPC channel as a worker sees it (`process` in a cluster worker). */
export interface SupervisorChannel {
  send(message: ToSupervisor): void;
  onMessage(handler: (message: ToWorker) => void): void;
  /** The supervisor went away (its IPC channel closed). */
  onDisconnect(handler: () => void): void;
}

export function processChannel(): SupervisorChannel {
  return {
    // The supervisor may go away between the check and the send: the callback takes that error
    // (without one, Node emits it on the process); onDisconnect closes this worker.
    send: (m) => {
      if (process.connected) process.send?.(m, undefined, undefined, () => {});
    },
    onMessage: (h) => process.on('message', (m: unknown) => isToWorker(m) && h(m)),
    onDisconnect: (h) => process.once('disconnect', h),
  };
}

/** Runs until the supervisor says stop (or goes away); resolves with the exit code. */
export async function runWorker(
  config: GeosyncConfig,
  deps: { log: Logger; telemetry: Telemetry; channel: SupervisorChannel; index: number },
): Promise<number> {
  const { log, telemetry, channel } = deps;
  let app: Engine;
  try {
    app = await startEngine(config, {
      log,
      meter: telemetry.meter,
      ...(telemetry.tracer ? { tracer: telemetry.tracer } : {}),
      port: {
        pullDecided: (record, method, target) => channel.send({ type: 'pull', record, method, target }),
        learnt: (verdict) => channel.send({ type: 'learnt', verdict }),
        manifestFound: (target, found) => channel.send({ type: 'found', target, found }),
      },
      // A diagnostic for the operator: once per instance, not once per worker.
      checksStorage: deps.index <= 0,
    });
  } catch (err) {
    log.fatal({ err }, 'geosync worker failed to start');
    await telemetry.shutdown();
    return 1;
  }
  channel.send({ type: 'ready' });
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (graceMs: number) => {
      if (stopping) return;
      stopping = true;
      await app.close(graceMs);
      await telemetry.shutdown();
      channel.send({ type: 'closed', hangingFsCalls: runningFsCalls() });
      resolve(0);
    };
    channel.onMessage((m) => {
      if (m.type === 'drain') app.startDraining();
      else if (m.type === 'learnt') app.adopt(m.verdict);
      else if (m.type === 'found') app.adoptFound(m.target, m.found);
      else if (m.type === 'stop') void stop(m.graceMs);
      else if (m.type === 'metrics')
        void telemetry.metricsText().then(
          (text) => channel.send({ type: 'metrics', id: m.id, text }),
          () => channel.send({ type: 'metrics', id: m.id, text: '' }),
        );
    });
    channel.onDisconnect(() => {
      log.warn('the supervisor is gone: closing');
      void stop(0);
    });
  });
  return stopped;
}
