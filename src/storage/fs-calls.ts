/**
 * Filesystem calls of one storage root, bounded. Node runs `fs` calls on libuv's threadpool
 * (shared with every other root and with DNS lookups), and a call on a mount whose server is gone
 * (a dead NFS server, a hung FUSE daemon) never returns: it keeps its thread even after the caller
 * stopped waiting. Unbounded, four such calls starved every other region's lookups. So each root
 * may have at most a quarter of the pool running; the next calls wait for a slot until their
 * caller's signal aborts, and a root whose calls hang holds only its own slots. A wait for a slot
 * is this process's, not the storage's: `onStart` tells the caller when the call really starts
 * (src/locate/region.ts counts a region's deadline and latency from then). `geosync serve` runs with a pool of
 * THREADPOOL_SIZE (src/main.ts), so a healthy root may run 16 calls at once; with libuv's default
 * of 4 it could run 1, and its lookups queued behind each other.
 * https://docs.libuv.org/en/v1.x/threadpool.html
 */
import { untilAborted } from '../abort/until-aborted';
import { threadpoolSize } from '../config/env';

/** The pool `geosync serve` asks libuv for, unless UV_THREADPOOL_SIZE is set (src/main.ts). */
export const THREADPOOL_SIZE = 64;

/** A quarter of the pool: a hung root leaves the rest to the other roots and to DNS. */
export function maxRunningPerRoot(pool: number = threadpoolSize()): number {
  return Math.max(1, Math.floor(pool / 4));
}

/** Filesystem calls of every root still running, stuck ones included (read at shutdown). */
let runningEverywhere = 0;
export function runningFsCalls(): number {
  return runningEverywhere;
}

export class FsCalls {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number = maxRunningPerRoot()) {}

  /**
   * `io` once a slot is free, or `onAbort()` when `signal` aborts first (waiting or running; a
   * running call keeps its slot until it returns).
   */
  run<T, U>(
    io: () => Promise<T>,
    signal: AbortSignal,
    onAbort: () => U,
    onStart: () => void = () => {},
  ): Promise<T | U> {
    if (signal.aborted) return Promise.resolve(onAbort());
    if (this.running < this.limit) return this.start(io, signal, onAbort, onStart);
    return new Promise<T | U>((resolve, reject) => {
      const go = (): void => {
        signal.removeEventListener('abort', abort);
        this.start(io, signal, onAbort, onStart).then(resolve, reject);
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

  private start<T, U>(
    io: () => Promise<T>,
    signal: AbortSignal,
    onAbort: () => U,
    onStart: () => void,
  ): Promise<T | U> {
    this.running++;
    onStart();
    runningEverywhere++;
    const call = io().finally(() => {
      this.running--;
      runningEverywhere--;
      this.waiting.shift()?.();
    });
    return untilAborted(call, signal, onAbort);
  }
}
