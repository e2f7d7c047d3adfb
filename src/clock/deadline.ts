/**
 * A deadline that lets answers which have already arrived count. Node runs due timers before it
 * reads sockets in each turn of its event loop (https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick),
 * so on a busy process a deadline timer can fire while the storage answer that came in well before
 * it still waits unread in a socket. When the timer fires, `fn` therefore waits for one more turn
 * (setImmediate runs right after the sockets were read) and then runs, unless cancelled.
 */
import type { Clock } from './clock';

export function setDeadline(clock: Clock, fn: () => void, ms: number): () => void {
  let cancelled = false;
  let immediate: NodeJS.Immediate | undefined;
  const cancelTimer = clock.setTimer(() => {
    immediate = setImmediate(() => {
      if (!cancelled) fn();
    });
  }, ms);
  return () => {
    cancelled = true;
    cancelTimer();
    if (immediate) clearImmediate(immediate);
  };
}
