/**
 * Filesystem calls of one storage root, bounded. Node runs `fs` calls on libuv's threadpool (4
 * threads by default, shared with every other root and with DNS lookups), and a call on a mount
 * whose server is gone (a dead NFS server, a hung FUSE daemon) never returns: it keeps its thread
 * even after the caller stopped waiting. Unbounded, four such calls starved every other region's
 * lookups. So each root may have at most MAX_RUNNING_PER_ROOT calls running; the next ones wait
 * for a slot until their caller's signal aborts (a silence the lookup then blames on this region,
 * src/locate/blame.ts), and a root whose calls hang holds only its own slots.
 * https://docs.libuv.org/en/v1.x/threadpool.html
 */
import { untilAborted } from '../abort/until-aborted';

/** Half of libuv's default threadpool: a hung root leaves the other half to the rest. */
export const MAX_RUNNING_PER_ROOT = 2;

/** Filesystem calls of every root still running, stuck ones included (read at shutdown). */
let runningEverywhere = 0;
export function runningFsCalls(): number {
  return runningEverywhere;
}

export class FsCalls {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * `io` once a slot is free, or `onAbort()` when `signal` aborts first (waiting or running; a
   * running call keeps its slot until it returns).
   */
  run<T, U>(io: () => Promise<T>, signal: AbortSignal, onAbort: () => U): Promise<T | U> {
    if (signal.aborted) return Promise.resolve(onAbort());
    if (this.running < MAX_RUNNING_PER_ROOT) return this.start(io, signal, onAbort);
    return new Promise<T | U>((resolve, reject) => {
      const go = (): void => {
        signal.removeEventListener('abort', abort);
        this.start(io, signal, onAbort).then(resolve, reject);
      };
      const abort = (): void => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(onAbort());
      };
      signal.addEventListener('abort', abort, { once: true });
      this.waiting.push(go);
    });
  }

  private start<T, U>(io: () => Promise<T>, signal: AbortSignal, onAbort: () => U): Promise<T | U> {
    this.running++;
    runningEverywhere++;
    const call = io().finally(() => {
      this.running--;
      runningEverywhere--;
      this.waiting.shift()?.();
    });
    return untilAborted(call, signal, onAbort);
  }
}
