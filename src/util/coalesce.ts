/**
 * Concurrent lookups of the same key share one piece of work (a rollout pulls one new
 * image on hundreds of nodes in the same second; without this every node's 404 would cause its
 * own cross-region probes). The work is owned by the coalescer, not by any waiter: a waiter that
 * gives up (deadline, cancelled stream) leaves without cancelling it for the others.
 */
export class Coalescer<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  get size(): number {
    return this.inflight.size;
  }

  /** Joins the work in flight for `key`, or starts it with `start`. */
  run(key: string, start: () => Promise<T>): { readonly promise: Promise<T>; readonly joined: boolean } {
    const existing = this.inflight.get(key);
    if (existing) return { promise: existing, joined: true };
    const promise = start().finally(() => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    });
    this.inflight.set(key, promise);
    return { promise, joined: false };
  }
}
