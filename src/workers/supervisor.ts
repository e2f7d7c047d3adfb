/**
 * The host of an instance whose engines run as workers (`listen.workers` > 1): the supervisor
 * forks them (node:cluster; they share the gRPC address, each accepted connection going to one of
 * them) and speaks to them over IPC (messages.ts). The instance (src/app/instance.ts) runs above
 * it in this process, as it runs above one engine in its own process. The supervisor:
 * - says the instance is ready while at least one worker is;
 * - passes each pull a worker decided to the instance (its staleness figures);
 * - merges every worker's `/metrics` with its own (label `geosync_worker`);
 * - passes each tag-freshness verdict a worker learnt to the others, so that one storage round
 *   per tag per T serves the instance, and each manifest a worker found in a sibling, so that
 *   every worker answers the blobs it names from its cache (other lookups stay per worker).
 * A worker that exits on its own is started again after RESTART_DELAY_MS: its connections fail
 * (Envoy lets those pulls' 404s pass, `failure_mode_allow`) and Envoy's next connections go to
 * the workers that run. One that fails before any worker was ever ready fails the start (a port
 * in use, a bad certificate): a supervisor that restarts a worker that can never start would
 * look alive and serve nothing.
 */
import cluster, { type Worker } from 'node:cluster';
import type { EnginePort } from '../app/engine';
import type { EngineHost } from '../app/host';
import type { GeosyncConfig } from '../config/types';
import type { Logger } from '../log/logger';
import { mergeExpositions } from '../telemetry/prometheus-merge';
import { METRICS } from '../telemetry/names';
import type { Telemetry } from '../telemetry/sdk';
import { isToSupervisor, type ToSupervisor, type ToWorker } from './messages';
import { WORKER_INDEX_VARIABLE } from './worker';

export const RESTART_DELAY_MS = 1000;
/** A worker that does not answer a metrics request within this is left out of that scrape. */
export const METRICS_TIMEOUT_MS = 2000;
/** After `stop`, how long a worker may take to close before it is killed. */
export const STOP_TIMEOUT_MS = 5000;
/** Which worker a sample came from, in the merged `/metrics`. */
export const WORKER_LABEL = 'geosync_worker';

interface Slot {
  readonly index: number;
  worker: Worker;
  ready: boolean;
  /** Set when the worker said it closed (after `stop`). */
  closed?: (hangingFsCalls: number) => void;
}

export function clusterHost(
  config: GeosyncConfig,
  deps: { log: Logger; telemetry: Telemetry; workers: number },
): EngineHost {
  const { log, telemetry } = deps;
  const restarts = telemetry.meter.createCounter(METRICS.workerRestarts.name, {
    unit: METRICS.workerRestarts.unit,
    description: METRICS.workerRestarts.description,
  });
  const slots: Slot[] = [];
  let pullDecided: EnginePort['pullDecided'] = () => {};
  let stopping = false;
  let draining = false;
  let everReady = false;
  let failStart: (reason: string) => void = () => {};
  const failed = new Promise<string>((resolve) => (failStart = resolve));
  let nextMetricsId = 0;
  const pendingMetrics = new Map<number, (text: string) => void>();

  // A worker may go away between the check and the send: the callback takes that error (without
  // one, Node emits it on the worker). Its exit handler deals with the worker itself.
  const send = (slot: Slot, m: ToWorker) => {
    if (slot.worker.isConnected()) slot.worker.send(m, () => {});
  };
  const onMessage = (slot: Slot, m: ToSupervisor) => {
    switch (m.type) {
      case 'ready':
        slot.ready = true;
        everReady = true;
        if (draining) send(slot, { type: 'drain' });
        log.info({ worker: slot.index, pid: slot.worker.process.pid }, 'worker ready');
        return;
      case 'pull':
        pullDecided(m.record, m.method, m.target);
        return;
      case 'metrics':
        pendingMetrics.get(m.id)?.(m.text);
        return;
      case 'closed':
        slot.closed?.(m.hangingFsCalls);
        return;
      case 'learnt':
      case 'found':
        // A tag's verdict: one storage round per tag per T for the instance, not per worker. A
        // manifest found: each worker reads its contents, so that the config and layers a client
        // asks any worker for next need no lookup of their own.
        for (const other of slots) if (other !== slot && other.ready) send(other, m);
        return;
    }
  };
  const fork = (index: number): Worker => {
    const worker = cluster.fork({ [WORKER_INDEX_VARIABLE]: String(index) });
    const slot: Slot = slots[index] ?? { index, worker, ready: false };
    slot.worker = worker;
    slot.ready = false;
    slots[index] = slot;
    worker.on('message', (m: unknown) => isToSupervisor(m) && onMessage(slot, m));
    worker.on('exit', (code, signal) => {
      slot.ready = false;
      if (stopping) return;
      if (!everReady) {
        failStart(`worker ${index} exited (${signal ?? `code ${code}`}) before any worker was ready`);
        return;
      }
      log.error({ worker: index, code, signal }, 'worker exited; starting another');
      restarts.add(1);
      setTimeout(() => {
        if (!stopping) fork(index);
      }, RESTART_DELAY_MS).unref();
    });
    return worker;
  };

  const metricsText = async (): Promise<string> => {
    const own = await telemetry.metricsText().catch(() => '');
    const theirs = await Promise.all(
      slots.map(
        (slot) =>
          new Promise<{ text: string; index: number }>((resolve) => {
            if (!slot.worker.isConnected()) return resolve({ text: '', index: slot.index });
            const id = nextMetricsId++;
            const timer = setTimeout(() => done(''), METRICS_TIMEOUT_MS);
            const done = (text: string) => {
              clearTimeout(timer);
              pendingMetrics.delete(id);
              resolve({ text, index: slot.index });
            };
            pendingMetrics.set(id, done);
            send(slot, { type: 'metrics', id });
          }),
      ),
    );
    return mergeExpositions([
      { text: own },
      ...theirs.map((t) => ({ text: t.text, labels: { [WORKER_LABEL]: String(t.index) } })),
    ]);
  };

  const exitOf = (w: Worker): Promise<void> => {
    if (w.isDead()) return Promise.resolve();
    return new Promise<void>((resolve) => w.once('exit', () => resolve()));
  };

  /**
   * Asks every worker to close; one that has neither exited nor said it closed STOP_TIMEOUT_MS
   * after its grace is killed. Resolves with the filesystem calls still hanging in the workers
   * that closed but cannot exit yet (see `closed` in messages.ts).
   */
  const stopWorkers = async (graceMs: number): Promise<number> => {
    const hanging = await Promise.all(
      slots.map(async (slot) => {
        const w = slot.worker;
        if (w.isDead()) return 0;
        const closed = new Promise<number>((resolve) => (slot.closed = resolve));
        send(slot, { type: 'stop', graceMs });
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<number>((resolve) => {
          timer = setTimeout(() => {
            w.process.kill('SIGKILL');
            resolve(0);
          }, graceMs + STOP_TIMEOUT_MS);
        });
        const calls = await Promise.race([exitOf(w).then(() => 0), closed, killed]);
        clearTimeout(timer);
        return calls;
      }),
    );
    return hanging.reduce((sum, n) => sum + n, 0);
  };

  return {
    async start(onPull) {
      pullDecided = onPull;
      cluster.setupPrimary({ serialization: 'advanced' });
      for (let i = 0; i < deps.workers; i++) fork(i);
      log.info({ workers: deps.workers, grpc: config.listen.grpc }, 'geosync supervising workers');
    },
    failed,
    ready: () => slots.some((s) => s.ready),
    drain() {
      draining = true;
      for (const slot of slots) send(slot, { type: 'drain' });
    },
    stop(graceMs) {
      stopping = true;
      return stopWorkers(graceMs);
    },
    exited: async () => {
      await Promise.all(slots.map((slot) => exitOf(slot.worker)));
    },
    metrics: async (_req, res) => {
      const text = await metricsText();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text);
    },
  };
}
