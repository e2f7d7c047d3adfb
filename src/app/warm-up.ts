/**
 * The warm-up before geosync reports ready, bounded by its own deadline whatever the locator
 * does: the locator is told to stop at `budgetMs` (its probes and checks honour that signal), and
 * a warm-up that still has not answered `WARM_UP_GRACE_MS` later is abandoned. A hung storage
 * mount must delay readiness by the budget, never keep this instance NOT_SERVING.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import type { Locator, StorageProblem } from '../locate/locator';

/** At most this long is spent warming sibling storage connections before reporting ready. */
export const WARM_UP_BUDGET_MS = 2_000;
/** How long after its budget a warm-up that ignores its signal may still hand in its findings. */
export const WARM_UP_GRACE_MS = 200;

export interface WarmUpReport {
  readonly problems: readonly StorageProblem[];
  /** False when the warm-up had to be abandoned (it ignored its deadline). */
  readonly finished: boolean;
}

export async function warmBeforeReady(
  locator: Locator,
  clock: Clock,
  budgetMs = WARM_UP_BUDGET_MS,
): Promise<WarmUpReport> {
  if (!locator.warm) return { problems: [], finished: true };
  const warming = new AbortController();
  const giveUp = new AbortController();
  const stopBudget = clock.setTimer(() => warming.abort(), budgetMs);
  const stopGrace = clock.setTimer(() => giveUp.abort(), budgetMs + WARM_UP_GRACE_MS);
  try {
    const warm = locator.warm(warming.signal).then(
      (problems): WarmUpReport => ({ problems, finished: true }),
      (): WarmUpReport => ({ problems: [], finished: true }),
    );
    return await untilAborted(warm, giveUp.signal, (): WarmUpReport => ({ problems: [], finished: false }));
  } finally {
    stopBudget();
    stopGrace();
  }
}
