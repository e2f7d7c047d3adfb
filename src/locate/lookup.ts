/**
 * One shared lookup: every lane is asked at once, and the holder is picked (hedge.ts) the moment it
 * is decided. When the lookup ends, the regions that were silent (still probing at the deadline,
 * or timed out on their own) are judged once (blame.ts), so that each lane knows whether its
 * silence counts against its breaker.
 */
import { ABORTED } from '../abort/reason';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { blameSilence, type Blame } from './blame';
import { chooseRegion, type Choice } from './hedge';
import { isSilence, type RegionLane } from './region';

export interface LookupOptions {
  readonly deadlineMs: number;
  readonly hedgeMs: number;
  readonly clock: Clock;
  /** True while the storage warm-up has not finished. */
  readonly warmingUp: () => boolean;
  /** Aborts the lookup (the locator is closing): nothing is judged. */
  readonly closing: AbortSignal;
  /** Read the one key whole (region.ts, readKey) instead of asking whether it exists. */
  readonly readOne?: boolean;
}

export interface LookupOutcome {
  readonly choice: Choice;
  /** How the silence of regions was judged; undefined when no region was silent. */
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

  let choice: Choice;
  try {
    const answers = lanes.map((lane, i) => {
      const verdict = new Promise<Blame | undefined>((resolve) => verdicts.push(resolve));
      return lane.ask(keys, controller.signal, verdict, opts.readOne).then((answer) => {
        heard[i] = answer.status === 'skipped' ? 'skipped' : isSilence(answer) ? 'silent' : 'answered';
        return answer;
      });
    });
    choice = await chooseRegion(answers, {
      hedgeMs: opts.hedgeMs,
      clock: opts.clock,
      signal: controller.signal,
    });
  } finally {
    cancelDeadline();
    opts.closing.removeEventListener('abort', onClose);
  }
  // Silent: timed out on its own, or still probing when the deadline passed. A lane still probing
  // when the answer was decided in time was merely cut short.
  const deadlinePassed = lateMs !== undefined;
  const silent = heard.map((h) => h === 'silent' || (h === undefined && deadlinePassed));
  const blame =
    silent.some(Boolean) && !opts.closing.aborted
      ? blameSilence({
          answered: heard.filter((h) => h === 'answered').length,
          silent: silent.filter(Boolean).length,
          timerLateMs: lateMs ?? 0,
          deadlineMs: opts.deadlineMs,
          warmingUp: opts.warmingUp(),
        })
      : undefined;
  verdicts.forEach((resolve, i) => resolve(silent[i] ? blame : undefined));
  // The answer is decided: probes still running can only cost capacity now.
  controller.abort(ABORTED);
  return blame === undefined ? { choice } : { choice, blame };
}
