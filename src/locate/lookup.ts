/**
 * One shared lookup: every lane is asked at once, and the holder is picked (hedge.ts) the moment it
 * is decided, each region waited for within its own deadline (region.ts). A region that passed
 * its deadline is not abandoned: its probe goes on to the lookup's hard limit and what it answers
 * is the lookup's final word, for the cache. When the lookup ends, the regions that were silent
 * (still probing at the hard limit, or timed out on their own) are judged once (blame.ts), so that
 * each lane knows whether its silence counts against its breaker.
 */
import { ABORTED } from '../abort/reason';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { blameSilence, type Blame } from './blame';
import { chooseRegion, type Choice } from './hedge';
import { isSilence, type LaneAsk, type RegionLane } from './region';

export interface LookupOptions {
  /**
   * The most a lookup runs (`lookupTimeoutMaxMs`): a probe still out then is silent, judged by
   * blame.ts. Each region's own, shorter deadline (region.ts, latency.ts) decides the first answer.
   */
  readonly deadlineMs: number;
  readonly hedgeMs: number;
  readonly clock: Clock;
  /** True while the storage warm-up has not finished. */
  readonly warmingUp: () => boolean;
  /** Aborts the lookup (the locator is closing): nothing is judged. */
  readonly closing: AbortSignal;
  /** Read the one key whole (region.ts, readKey) instead of asking whether it exists. */
  readonly readOne?: boolean;
  /** The client's credentials, for regions asked with them (ProbeOptions.authorization). */
  readonly authorization?: string;
}

export interface Settled {
  readonly choice: Choice;
  /** How the silence of regions was judged; undefined when no region was silent. */
  readonly blame?: Blame;
}

export interface LookupOutcome {
  /** What the waiters get: decided the moment it cannot change within the regions' deadlines. */
  readonly choice: Choice;
  /**
   * When a region passed its deadline without answering, its probe goes on (until `deadlineMs`)
   * and this is the lookup as it finally ended, for the cache: a far region's late answer serves
   * the next request. Absent when `choice` is final.
   */
  readonly later?: Promise<Settled>;
  /** Set when `choice` is final. */
  readonly blame?: Blame;
}

type Heard = 'answered' | 'silent' | 'skipped' | undefined;

export async function probeLanes(
  lanes: readonly RegionLane[],
  keys: readonly string[],
  opts: LookupOptions,
): Promise<LookupOutcome> {
  const controller = new AbortController();
  const started = opts.clock.now();
  const heard: Heard[] = lanes.map(() => undefined);
  let lateMs: number | undefined;
  const cancelDeadline = setDeadline(
    opts.clock,
    () => {
      lateMs = opts.clock.now() - started - opts.deadlineMs;
      controller.abort(ABORTED);
    },
    opts.deadlineMs,
  );
  const onClose = (): void => controller.abort(ABORTED);
  opts.closing.addEventListener('abort', onClose, { once: true });
  const verdicts: ((why: Blame | undefined) => void)[] = [];

  /** Judges the silent regions once the lookup has ended, and stops what still runs. */
  const end = (): Blame | undefined => {
    cancelDeadline();
    opts.closing.removeEventListener('abort', onClose);
    // Silent: timed out on its own, or still probing when the hard limit passed. A lane still
    // probing when the answer was decided was merely cut short.
    const deadlinePassed = lateMs !== undefined;
    const silent = heard.map((h) => h === 'silent' || (h === undefined && deadlinePassed));
    // What blame.ts weighs is who answered in time: a region that answered only after its own
    // deadline was as silent then as the one still silent now (two regions of one overloaded
    // storage, or this process too busy to read them, are no evidence against either).
    const expired = asks.map((a) => a.expired());
    const blame =
      silent.some(Boolean) && !opts.closing.aborted
        ? blameSilence({
            answered: heard.filter((h, i) => h === 'answered' && !expired[i]).length,
            silent: silent.filter((s, i) => s || expired[i]).length,
            timerLateMs: lateMs ?? 0,
            deadlineMs: opts.deadlineMs,
            warmingUp: opts.warmingUp(),
          })
        : undefined;
    verdicts.forEach((resolve, i) => resolve(silent[i] ? blame : undefined));
    // The answer is decided: probes still running can only cost capacity now.
    controller.abort(ABORTED);
    return blame;
  };

  let asks: LaneAsk[] = [];
  let choice: Choice;
  try {
    asks = lanes.map((lane, i) => {
      const verdict = new Promise<Blame | undefined>((resolve) => verdicts.push(resolve));
      const ask = lane.ask(keys, controller.signal, verdict, opts.readOne, opts.authorization);
      const final = ask.final.then((answer) => {
        heard[i] = answer.status === 'skipped' ? 'skipped' : isSilence(answer) ? 'silent' : 'answered';
        return answer;
      });
      return { ...ask, final };
    });
    choice = passedDeadline(
      await chooseRegion(
        asks.map((a) => a.first),
        { hedgeMs: opts.hedgeMs, clock: opts.clock, signal: controller.signal },
      ),
    );
  } catch (err) {
    end();
    throw err;
  }
  const final = choice.kind === 'found' || (choice.kind === 'not_found' && choice.complete);
  if (final || controller.signal.aborted) {
    const blame = end();
    return blame === undefined ? { choice } : { choice, blame };
  }
  // A region passed its deadline (or errored) and others are still out: let them finish.
  const later = chooseRegion(
    asks.map((a) => a.final),
    { hedgeMs: opts.hedgeMs, clock: opts.clock, signal: controller.signal },
  ).then(
    (c) => {
      const blame = end();
      const settled = passedDeadline(c);
      return blame === undefined ? { choice: settled } : { choice: settled, blame };
    },
    (err: unknown) => {
      end();
      throw err;
    },
  );
  return { choice, later };
}

/** A region that passed its deadline answers `error/timeout`: for the waiters that is a timeout. */
function passedDeadline(choice: Choice): Choice {
  return choice.kind === 'error' && choice.errorKind === 'timeout' ? { kind: 'timeout' } : choice;
}
