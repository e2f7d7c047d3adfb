/**
 * `work` bounded by a deadline and by the caller's signal, whichever comes first: resolves with
 * the work's value, or with `interrupted(timedOut)` the moment the deadline passes or the caller
 * aborts. The signal given to `work` aborts then, and also once the call returns, so nothing the
 * work started outlives it. The deadline lets an answer that has already arrived count
 * (src/clock/deadline.ts).
 */
import { ABORTED } from './reason';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { untilAborted } from './until-aborted';

export async function bounded<T>(
  clock: Clock,
  deadlineMs: number,
  caller: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
  interrupted: (timedOut: boolean) => T,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const stopTimer = setDeadline(
    clock,
    () => {
      timedOut = true;
      controller.abort(ABORTED);
    },
    deadlineMs,
  );
  const onAbort = (): void => controller.abort(ABORTED);
  caller.addEventListener('abort', onAbort, { once: true });
  if (caller.aborted) controller.abort(ABORTED);
  try {
    return await untilAborted(work(controller.signal), controller.signal, () => interrupted(timedOut));
  } finally {
    stopTimer();
    caller.removeEventListener('abort', onAbort);
    controller.abort(ABORTED);
  }
}
