/**
 * One sibling region as the locator sees it: its storage probe behind a circuit breaker and a
 * concurrency cap, and its registry's health. `ask` turns "do all these keys exist there?" into one
 * RegionAnswer and keeps the breaker, the cap and the observer up to date.
 */
import type { Clock } from '../clock/clock';
import { isBlobDataKey } from '../storage/keys';
import type { ObjectProbe, ProbeOptions, ProbeResult } from '../storage/probe';
import type { Blame } from './blame';
import { CircuitBreaker, type BreakerOptions, type BreakerPermit } from './breaker';
import { RegionLatency, type DeadlineBounds } from './latency';
import { setDeadline } from '../clock/deadline';
import { ConcurrencyGate } from './gate';
import type { RegionAnswer } from './hedge';
import type { guardObserver, RegionOutcome } from './observer';

/** What a region that was asked answered. */
export type ProbedAnswer = Exclude<RegionAnswer, { status: 'skipped' }>;

/**
 * A region holds the target when every key is found; its age is that of the first key (the
 * repository's own link). Answers not_found as soon as one key is missing or refused (403),
 * without waiting for the others (or, in turn, without asking them).
 */
export function probeKeys(
  probe: ObjectProbe,
  keys: readonly string[],
  signal: AbortSignal,
  readOne = false,
  authorization?: string,
): Promise<ProbedAnswer> {
  const opts = authorization !== undefined ? { signal, authorization } : { signal };
  // ObjectProbe.viaRegistryApi: the repository's own key answers for the data behind it.
  if (probe.viaRegistryApi) keys = keys.filter((k) => !isBlobDataKey(k));
  if (readOne && keys.length === 1 && !probe.keysInTurn) return readKey(probe, keys[0] as string, opts);
  return new Promise<ProbedAnswer>((resolve) => {
    const results: (ProbeResult | undefined)[] = keys.map(() => undefined);
    let done = false;
    const settle = (): void => {
      if (done) return;
      // Any key not there decides; a plain "not there" wins over a 403 (S3 without ListBucket).
      let denied = false;
      for (const r of results) {
        if (r?.status === 'not_found') {
          done = true;
          return resolve({ status: 'not_found' });
        }
        if (r?.status === 'error' && r.kind === 'denied') denied = true;
      }
      if (denied) {
        done = true;
        return resolve({ status: 'not_found', denied: true });
      }
      if (results.some((r) => r === undefined)) return;
      done = true;
      const error = results.find((r) => r?.status === 'error');
      if (error?.status === 'error') return resolve({ status: 'error', kind: error.kind });
      const first = results[0];
      resolve(
        first?.status === 'found'
          ? { status: 'found', lastModified: first.lastModified }
          : { status: 'not_found' },
      );
    };
    const ask = (i: number): void => {
      probe.head(keys[i] as string, opts).then(
        (r) => {
          results[i] = r;
          // In turn (ObjectProbe.keysInTurn): a found key asks the next; any other answer decides.
          if (probe.keysInTurn && i + 1 < keys.length) {
            if (r.status === 'found') return ask(i + 1);
            results.fill(r, i + 1);
          }
          settle();
        },
        (err: unknown) => {
          results.fill(
            { status: 'error', kind: 'internal', message: String(err) },
            i,
            probe.keysInTurn ? undefined : i + 1,
          );
          settle();
        },
      );
    };
    if (keys.length === 0) resolve({ status: 'not_found' });
    else if (probe.keysInTurn) ask(0);
    else keys.forEach((_, i) => ask(i));
  });
}

/**
 * One key read whole instead of asked about: a tag's link, so that the digest it names comes with
 * the answer and the manifest's contents can be read right away (one storage request fewer before
 * the config and layers are known; manifest-contents.ts). Over the network that is the same round
 * trip as a HEAD; on a filesystem (keysInTurn) a read is four calls where a `stat` is one, and
 * reading the link again costs no round trip, so there the key is only asked about.
 */
async function readKey(probe: ObjectProbe, key: string, opts: ProbeOptions): Promise<ProbedAnswer> {
  try {
    const r = await probe.read(key, opts);
    if (r.status === 'found') return { status: 'found', lastModified: r.lastModified, text: r.text };
    if (r.status === 'not_found') return { status: 'not_found' };
    return r.kind === 'denied' ? { status: 'not_found', denied: true } : { status: 'error', kind: r.kind };
  } catch {
    return { status: 'error', kind: 'internal' };
  }
}

export interface RegionLaneOptions {
  readonly breaker: BreakerOptions;
  readonly maxConcurrentProbes: number;
  /** Bounds of the region's learnt deadline (latency.ts). */
  readonly deadline: DeadlineBounds;
}

/** What one region was asked, as the lookup sees it (lookup.ts). */
export interface LaneAsk {
  /**
   * The answer the lookup decides on: the region's own, or, for a region whose last probe went
   * unanswered, silence (`error/timeout`) once its deadline has passed since its request left this
   * process.
   */
  readonly first: Promise<RegionAnswer>;
  /**
   * The region's own answer however late, until the lookup's signal aborts: a far region that
   * missed its deadline still teaches the cache (and its latency) for the next request.
   */
  readonly final: Promise<RegionAnswer>;
  /**
   * True once the region's deadline passed before its answer: `first` was then the deadline
   * (a region known to be silent), or a late answer (one that was waited for).
   */
  readonly expired: () => boolean;
}

export class RegionLane {
  private readonly breaker: CircuitBreaker;
  private readonly gate: ConcurrencyGate;
  private readonly latency: RegionLatency;
  /** When this region last answered a probe (anything but silence). */
  private lastAnswered = Number.NEGATIVE_INFINITY;
  /**
   * A probe of this region ended in silence and none has been answered since. Until then a lookup
   * waits for the region past its learnt deadline, to the lookup's hard limit: a region that has
   * been answering and is slow now (a herd's burst loading the path, or the registry serving the
   * herd's redirected pulls) is waited for, not failed; once a probe went unanswered, the region's
   * deadline cuts the next ones short again, as RFC 6298 §5 backs off only after a timer expired.
   */
  private silent = false;
  private readonly maxWaitMs: number;

  constructor(
    readonly name: string,
    private readonly probe: ObjectProbe,
    opts: RegionLaneOptions,
    private readonly clock: Clock,
    private readonly observer: ReturnType<typeof guardObserver>,
  ) {
    this.breaker = new CircuitBreaker(opts.breaker, clock, (s) => observer.breakerState(name, s));
    this.gate = new ConcurrencyGate(opts.maxConcurrentProbes, (n) => observer.inflight(name, n));
    this.latency = new RegionLatency(opts.deadline);
    this.maxWaitMs = opts.deadline.maxMs;
  }

  /** Would a lookup starting now ask this region (breaker not open)? */
  get askable(): boolean {
    return this.breaker.current() !== 'open';
  }

  /** How long a lookup waits for this region once its request is out (latency.ts). */
  deadlineMs(): number {
    return this.latency.deadlineMs();
  }

  /**
   * How long a lookup starting now may wait for this region's answer: up to the hard limit while
   * the region answers (`silent`), its learnt deadline once a probe went unanswered.
   */
  waitMs(): number {
    return this.silent ? this.latency.deadlineMs() : this.maxWaitMs;
  }

  /**
   * A round trip of this region's storage measured outside lookups (the warm-up and keep-warm):
   * learnt, and the region heard.
   */
  learn(ms: number): void {
    this.latency.sample(ms);
    this.lastAnswered = this.clock.now();
    this.silent = false;
  }

  /**
   * A keep-warm request went unanswered by the hard limit: the region is silent until it answers
   * again. Without it a region that stopped answering, in a deployment whose pulls needed no
   * lookup of it, was waited for to the hard limit by every tag freshness check (`waitMs`).
   */
  unheard(): void {
    this.silent = true;
  }

  /**
   * Probes every key. `signal` aborts at the lookup's hard limit, at close, or once the answer was
   * decided elsewhere. The region's own deadline (latency.ts) runs only while a request of this
   * probe is out of this process: a wait in geosync's own queue is neither the region's deadline
   * nor its fault. What silence at the end counts against is judged by the lookup (`verdict`,
   * blame.ts): a probe that never left this process, or was merely cut short, counts for nothing.
   */
  ask(
    keys: readonly string[],
    signal: AbortSignal,
    verdict: Promise<Blame | undefined>,
    readOne = false,
    authorization?: string,
  ): LaneAsk {
    const skipped = (authoritative: boolean): LaneAsk => {
      const answer = Promise.resolve<RegionAnswer>({ status: 'skipped', authoritative });
      return { first: answer, final: answer, expired: () => false };
    };
    if (!this.askable) {
      this.observer.regionSkipped(this.name, 'breaker_open');
      return skipped(true);
    }
    if (!this.gate.tryAcquire(keys.length)) {
      this.observer.regionSkipped(this.name, 'overflow');
      return skipped(false);
    }
    const permit = this.breaker.tryAcquire();
    if (!permit) {
      // Half open with its one trial already in flight: the region may be back and hold the
      // content, so a miss elsewhere is not complete (not cached).
      this.gate.release(keys.length);
      this.observer.regionSkipped(this.name, 'breaker_open');
      return skipped(false);
    }
    const askedAt = this.clock.now();
    const out = new Dispatches(this.clock, this.probe.queuesLocally === true);
    let answerFirst: (answer: RegionAnswer) => void = () => {};
    let expired = false;
    const first = new Promise<RegionAnswer>((resolve) => (answerFirst = resolve));
    const stopDeadline = out.deadline(
      () => this.latency.deadlineMs(),
      () => {
        expired = true;
        // Not known to be silent: its answer (or the lookup's hard limit) decides.
        if (this.silent) answerFirst({ status: 'error', kind: 'timeout' });
      },
    );
    const final = probeKeys(out.wrap(this.probe), keys, signal, readOne, authorization)
      .finally(() => {
        stopDeadline();
        this.gate.release(keys.length);
      })
      .then((answer) => {
        this.account(answer, out, permit, verdict, askedAt);
        const settled: RegionAnswer =
          isSilence(answer) && answer.kind !== 'aborted' ? { status: 'error', kind: 'timeout' } : answer;
        answerFirst(settled);
        return settled;
      });
    return { first, final, expired: () => expired };
  }

  /** Keeps the breaker, the latency and the observer up to date with how a probe ended. */
  private account(
    answer: ProbedAnswer,
    out: Dispatches,
    permit: BreakerPermit,
    verdict: Promise<Blame | undefined>,
    askedAt: number,
  ): void {
    const ms = out.serviceMs();
    if (isSilence(answer)) {
      // Still waiting in this process's own queue: nothing was asked of the region.
      if (out.queued) {
        this.breaker.abandon(permit);
        this.observer.probeFinished(this.name, 'aborted', ms);
        return;
      }
      const cutShort = answer.kind === 'aborted';
      void verdict.then((why) => {
        // Unanswered to the end (not merely cut short once the answer was decided elsewhere),
        // and nothing answered since: the next lookups are cut at the region's deadline.
        if (!(why === undefined && cutShort) && this.lastAnswered <= askedAt) this.silent = true;
        // A region that answered other probes while this one was out is busy, not gone: a
        // burst's tail on an overloaded storage is for the lookup window to shed
        // (admission.ts), not for the breaker, which is for a region that stopped answering.
        const busy = this.lastAnswered > askedAt;
        if (why === 'region' && !busy) this.breaker.failure(permit);
        else this.breaker.abandon(permit);
        this.observer.probeFinished(this.name, why === undefined && cutShort ? 'aborted' : 'timeout', ms);
      });
      return;
    }
    this.latency.sample(ms);
    this.lastAnswered = this.clock.now();
    this.silent = false;
    if (answer.status === 'error') this.breaker.failure(permit);
    else this.breaker.success(permit);
    this.observer.probeFinished(this.name, outcomeOf(answer), ms);
  }

  close(): Promise<void> {
    return this.probe.close();
  }
}

/**
 * The requests of one probe as they leave this process. For a probe without a queue of its own
 * every request leaves at once. The region's deadline runs from the first request that leaves;
 * when it passes while the next request still waits in the queue, it runs again from that
 * request's departure (the keys of a filesystem lookup go one after another, each through the
 * root's share of the threadpool).
 */
class Dispatches {
  private waiting = 0;
  private firstOut: number | undefined;
  private onOut: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly queuesLocally: boolean,
  ) {
    if (!queuesLocally) this.firstOut = clock.now();
  }

  /** A request of this probe is waiting in this process's queue now. */
  get queued(): boolean {
    return this.waiting > 0;
  }

  /** Time since the first request left (0 when none did). */
  serviceMs(): number {
    return this.firstOut === undefined ? 0 : this.clock.now() - this.firstOut;
  }

  /** `probe`, telling this object when each of its requests waits and leaves. */
  wrap(probe: ObjectProbe): ObjectProbe {
    if (!this.queuesLocally) return probe;
    const track = <O extends ProbeOptions>(opts: O): O => {
      this.waiting += 1;
      let left = false;
      return {
        ...opts,
        onDispatch: () => {
          if (left) return;
          left = true;
          this.waiting -= 1;
          this.firstOut ??= this.clock.now();
          const go = this.onOut;
          this.onOut = undefined;
          go?.();
        },
      };
    };
    return {
      region: probe.region,
      keysInTurn: probe.keysInTurn ?? false,
      queuesLocally: true,
      ...(probe.viaRegistryApi ? { viaRegistryApi: true } : {}),
      head: (key, opts) => probe.head(key, track(opts)),
      read: (key, opts) => probe.read(key, track(opts)),
      list: (key, opts) => probe.list(key, track(opts)),
      ...(probe.readManifest
        ? { readManifest: (repo, digest, opts) => probe.readManifest!(repo, digest, track(opts)) }
        : {}),
      close: () => probe.close(),
    };
  }

  /**
   * Calls `expired` once the region's deadline (`ms()`, read again when it passes: answers to
   * other requests of a burst teach it how long this one may take) has passed with a request out
   * of this process, never while the probe only waits in the queue. Returns a function that
   * cancels it.
   */
  deadline(ms: () => number, expired: () => void): () => void {
    let cancelTimer: (() => void) | undefined;
    let stopped = false;
    const arm = (): void => {
      if (stopped) return;
      const armedAt = this.clock.now();
      const wait = (left: number): void => {
        // setDeadline: an answer that arrived before the timer but is still unread counts.
        cancelTimer = setDeadline(
          this.clock,
          () => {
            cancelTimer = undefined;
            if (stopped) return;
            // The time ran out while the next request waited here: it gets its own time once out.
            if (this.queued) {
              this.onOut = arm;
              return;
            }
            const more = ms() - (this.clock.now() - armedAt);
            if (more > 0) wait(more);
            else expired();
          },
          left,
        );
      };
      wait(ms());
    };
    if (this.firstOut !== undefined) arm();
    else this.onOut = arm;
    return () => {
      stopped = true;
      this.onOut = undefined;
      cancelTimer?.();
    };
  }
}

/** No answer: stopped at the caller's abort, or the probe's own timeout passed. */
export function isSilence(
  answer: ProbedAnswer,
): answer is Extract<ProbedAnswer, { status: 'error' }> & { kind: 'aborted' | 'timeout' } {
  return answer.status === 'error' && (answer.kind === 'aborted' || answer.kind === 'timeout');
}

function outcomeOf(answer: ProbedAnswer): RegionOutcome {
  if (answer.status === 'error') return answer.kind;
  if (answer.status === 'not_found' && answer.denied) return 'denied';
  return answer.status;
}
