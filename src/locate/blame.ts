/**
 * What a lookup deadline that passed with regions still silent is evidence of. A breaker must open
 * for a region that is slow or gone, not because this process (or the machine under it) was too
 * busy to hear the answers in time:
 * - a region stayed silent while another asked region answered in time: this side was hearing
 *   answers, so the silent region is slow ('region');
 * - every asked region silent at the same moment points at this side ('local'), and so does
 *   silence while the storage warm-up has not finished (cold connections, cold code);
 * - the only region asked was silent: 'local' when the deadline timer itself fired late (this
 *   process's event loop was busy), otherwise 'region'.
 */
export type Blame = 'region' | 'local';

export interface DeadlineFacts {
  /** Regions asked that answered (anything, errors included) before the deadline. */
  readonly answered: number;
  /** Regions asked that were still silent at the deadline. */
  readonly silent: number;
  /** How much later than due the deadline timer ran. */
  readonly timerLateMs: number;
  readonly deadlineMs: number;
  readonly warmingUp: boolean;
}

/** A deadline timer later than this share of the deadline means the event loop was busy. */
export const LATE_TIMER_SHARE = 0.25;

export function blameSilence(f: DeadlineFacts): Blame {
  if (f.answered > 0) return 'region';
  if (f.warmingUp || f.silent > 1) return 'local';
  return f.timerLateMs > f.deadlineMs * LATE_TIMER_SHARE ? 'local' : 'region';
}
