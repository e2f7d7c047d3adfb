/**
 * A cached, coalesced, bounded answer per key: what a herd of asks of one key costs is one piece
 * of work per TTL, however many ask and however soon each gives up.
 * - **Cache.** An answer is reused for its own TTL (`ttlOf`; 0: not kept); a failure's for at most
 *   FAILURE_TTL_MS (ttl-lru-cache.ts: bounded by entries and bytes, expiry read on the clock).
 * - **In-flight sharing.** Concurrent asks of a key share one piece of work (coalesce.ts), owned
 *   by no waiter: one that leaves does not cancel it for the others, and what it learns is cached.
 * - **A work deadline.** The work's signal aborts `workTimeoutMs` after it starts, whatever its
 *   waiters' deadlines: a slow answer is still learnt for the asks that follow.
 * - **A waiter bounded by its own signal.** It leaves with `interrupted()` the moment that aborts.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { Coalescer } from './coalesce';
import { TtlLruCache } from './ttl-lru-cache';

/** A failed answer is reused this long at most (failure-ttl.ts). */
export { FAILURE_TTL_MS } from './failure-ttl';
import { FAILURE_TTL_MS } from './failure-ttl';

export interface SharedAnswersOptions<V> {
  readonly clock: Clock;
  /** How long the shared work of one key may run, whatever its waiters' deadlines. */
  readonly workTimeoutMs: number;
  /** Which answers are failures (their TTL is cut to FAILURE_TTL_MS); default: none. */
  readonly isFailure?: (value: V) => boolean;
  readonly maxEntries?: number;
  /** The bytes the cached answers may hold, estimated by `sizeOf`; default: unbounded. */
  readonly maxBytes?: number;
  readonly sizeOf?: (value: V) => number;
}

export interface Ask<V> {
  /** The shared work; resolves (never rejects). Its signal aborts at the work deadline. */
  readonly work: (signal: AbortSignal) => Promise<V>;
  /** How long the work's answer is reused (0: not kept). */
  readonly ttlOf: (value: V) => number;
  /** This waiter's answer when its signal aborts first. */
  readonly interrupted: () => V;
}

/** Answered from the cache, by joining the work in flight, or by work this ask started. */
export type Shared = 'cache' | 'joined' | 'own';

export class SharedAnswers<V> {
  private readonly cache: TtlLruCache<V>;
  private readonly inflight = new Coalescer<V>();

  constructor(private readonly opts: SharedAnswersOptions<V>) {
    this.cache = new TtlLruCache<V>(
      { maxEntries: opts.maxEntries ?? 10_000, maxBytes: opts.maxBytes ?? Number.MAX_SAFE_INTEGER },
      opts.clock,
      opts.sizeOf ?? (() => 0),
    );
  }

  /** The answer reused for `key`, if one is (no work, no waiting). */
  cached(key: string): V | undefined {
    return this.cache.get(key);
  }

  /** Keeps `value` for `key` as if work had answered it (an answer learnt elsewhere). */
  remember(key: string, value: V, ttlMs: number): void {
    this.cache.set(key, value, ttlMs);
  }

  /** The cached answer, else the shared work's, else `interrupted()` once `signal` aborts. */
  async get(key: string, signal: AbortSignal, ask: Ask<V>): Promise<{ value: V; shared: Shared }> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return { value: cached, shared: 'cache' };
    const { promise, joined } = this.inflight.run(key, async () => {
      const value = await this.bounded(ask.work);
      const ttlMs = ask.ttlOf(value);
      if (ttlMs > 0)
        this.cache.set(key, value, this.opts.isFailure?.(value) ? Math.min(ttlMs, FAILURE_TTL_MS) : ttlMs);
      return value;
    });
    const value = await untilAborted(promise, signal, ask.interrupted);
    return { value, shared: joined ? 'joined' : 'own' };
  }

  private async bounded(work: Ask<V>['work']): Promise<V> {
    const controller = new AbortController();
    const stop = setDeadline(this.opts.clock, () => controller.abort(), this.opts.workTimeoutMs);
    try {
      return await work(controller.signal);
    } finally {
      stop();
    }
  }
}
