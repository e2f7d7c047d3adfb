/**
 * The start-up work on sibling storage, each part bounded by its own deadline whatever the
 * locator does: the locator is told to stop at the deadline (its probes and checks honour that
 * signal), and work that still has not answered `WARM_UP_GRACE_MS` later is abandoned.
 * - The warm-up (opening connections) runs before geosync reports ready, within
 *   WARM_UP_BUDGET_MS: a hung storage mount delays readiness by that, never keeps this instance
 *   NOT_SERVING.
 * - The storage check runs beside serving, within STORAGE_CHECK_DEADLINE_MS: on a slow start its
 *   findings (a bucket typo, refused credentials) still arrive, without delaying readiness.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import type { StorageProblem } from '../locate/locator';

/** At most this long is spent warming sibling storage connections before reporting ready. */
export const WARM_UP_BUDGET_MS = 2_000;
/** At most this long is spent checking sibling storage, beside serving. */
export const STORAGE_CHECK_DEADLINE_MS = 30_000;
/** How long after its deadline work that ignores its signal may still hand in its findings. */
export const WARM_UP_GRACE_MS = 200;

export interface StorageReport {
  readonly problems: readonly StorageProblem[];
  /** False when the work had to be abandoned (it ignored its deadline) or was stopped. */
  readonly finished: boolean;
}

type StorageWork = ((signal: AbortSignal) => Promise<readonly StorageProblem[]>) | undefined;

/** Runs `work` (absent: nothing to do) within `deadlineMs`; `stop` ends it at once. */
export async function withinDeadline(
  work: StorageWork,
  clock: Clock,
  deadlineMs: number,
  stop?: AbortSignal,
): Promise<StorageReport> {
  if (!work) return { problems: [], finished: true };
  const told = new AbortController();
  const giveUp = new AbortController();
  const stopTelling = clock.setTimer(() => told.abort(), deadlineMs);
  const stopWaiting = clock.setTimer(() => giveUp.abort(), deadlineMs + WARM_UP_GRACE_MS);
  const onStop = (): void => {
    told.abort();
    giveUp.abort();
  };
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    const done = work(told.signal).then(
      (problems): StorageReport => ({ problems, finished: !stop?.aborted }),
      (): StorageReport => ({ problems: [], finished: true }),
    );
    return await untilAborted(done, giveUp.signal, (): StorageReport => ({ problems: [], finished: false }));
  } finally {
    stopTelling();
    stopWaiting();
    stop?.removeEventListener('abort', onStop);
  }
}
