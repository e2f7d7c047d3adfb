/**
 * How an instance runs its engines: one in its own process (in-process-host.ts), or one per
 * worker process (src/workers/supervisor.ts). The instance (instance.ts) drives either the same
 * way and never asks which it has; what differs is only where the engines live and how their
 * reports reach the instance and each other.
 */
import type { AdminRoute } from '../admin/server';
import type { EnginePort } from './engine';

export interface EngineHost {
  /**
   * Starts the engines, each reporting the pulls it decides to `pullDecided`. Rejects when they
   * cannot start (in-process: the engine's start failed); a failure found later, once they run
   * elsewhere, arrives through `failed`.
   */
  start(pullDecided: EnginePort['pullDecided']): Promise<void>;
  /** Why the engines could not start after all (no worker was ever ready); otherwise pending. */
  readonly failed: Promise<string>;
  /** At least one engine serves. */
  ready(): boolean;
  /** Every engine, and any started later: health NOT_SERVING, streams still answered. */
  drain(): void;
  /**
   * Closes every engine (open streams get `graceMs`). Resolves with the filesystem calls still
   * hanging in a dead mount (src/storage/fs-calls.ts): an engine's process ends only once they
   * return, which may be never.
   */
  stop(graceMs: number): Promise<number>;
  /** Resolves when the engines' processes have ended (in-process: this one, so at once). */
  exited(): Promise<void>;
  /** GET /metrics: every engine's samples with the instance's own; absent: no such route. */
  readonly metrics?: AdminRoute;
}
