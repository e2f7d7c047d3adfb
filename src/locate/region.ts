/**
 * One sibling region as the locator sees it: its storage probe behind a circuit breaker and a
 * concurrency cap, and its registry's health. `ask` turns "do all these keys exist there?" into one
 * RegionAnswer and keeps the breaker, the cap and the observer up to date.
 */
import type { Clock } from '../clock/clock';
import type { ObjectProbe, ProbeResult } from '../storage/probe';
import type { Blame } from './blame';
import { CircuitBreaker, type BreakerOptions } from './breaker';
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
): Promise<ProbedAnswer> {
  if (readOne && keys.length === 1 && !probe.keysInTurn) return readKey(probe, keys[0] as string, signal);
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
      probe.head(keys[i] as string, { signal }).then(
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
async function readKey(probe: ObjectProbe, key: string, signal: AbortSignal): Promise<ProbedAnswer> {
  try {
    const r = await probe.read(key, { signal });
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
}

export class RegionLane {
  private readonly breaker: CircuitBreaker;
  private readonly gate: ConcurrencyGate;

  constructor(
    readonly name: string,
    private readonly probe: ObjectProbe,
    opts: RegionLaneOptions,
    private readonly clock: Clock,
    private readonly observer: ReturnType<typeof guardObserver>,
  ) {
    this.breaker = new CircuitBreaker(opts.breaker, clock, (s) => observer.breakerState(name, s));
    this.gate = new ConcurrencyGate(opts.maxConcurrentProbes, (n) => observer.inflight(name, n));
  }

  /** Would a lookup starting now ask this region (breaker not open)? */
  get askable(): boolean {
    return this.breaker.current() !== 'open';
  }

  /**
   * Probes every key. `signal` aborts at the shared lookup's deadline or once the answer was
   * decided elsewhere. A region that was silent (aborted at the deadline, or its own timeout) is
   * counted when the lookup has judged it (`verdict`, blame.ts): against its breaker only when the
   * silence was the region's; a probe merely cut short (verdict undefined) counts for nothing.
   */
  async ask(
    keys: readonly string[],
    signal: AbortSignal,
    verdict: Promise<Blame | undefined>,
    readOne = false,
  ): Promise<RegionAnswer> {
    if (!this.askable) {
      this.observer.regionSkipped(this.name, 'breaker_open');
      return { status: 'skipped', authoritative: true };
    }
    if (!this.gate.tryAcquire(keys.length)) {
      this.observer.regionSkipped(this.name, 'overflow');
      return { status: 'skipped', authoritative: false };
    }
    const permit = this.breaker.tryAcquire();
    if (!permit) {
      // Half open with its one trial already in flight: the region may be back and hold the
      // content, so a miss elsewhere is not complete (not cached).
      this.gate.release(keys.length);
      this.observer.regionSkipped(this.name, 'breaker_open');
      return { status: 'skipped', authoritative: false };
    }
    const started = this.clock.now();
    let answer: ProbedAnswer;
    try {
      answer = await probeKeys(this.probe, keys, signal, readOne);
    } finally {
      this.gate.release(keys.length);
    }
    const ms = this.clock.now() - started;
    if (isSilence(answer)) {
      const cutShort = answer.kind === 'aborted';
      void verdict.then((why) => {
        if (why === 'region') this.breaker.failure(permit);
        else this.breaker.abandon(permit);
        this.observer.probeFinished(this.name, why === undefined && cutShort ? 'aborted' : 'timeout', ms);
      });
      return cutShort ? answer : { status: 'error', kind: 'timeout' };
    }
    if (answer.status === 'error') this.breaker.failure(permit);
    else this.breaker.success(permit);
    this.observer.probeFinished(this.name, outcomeOf(answer), ms);
    return answer;
  }

  close(): Promise<void> {
    return this.probe.close();
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
