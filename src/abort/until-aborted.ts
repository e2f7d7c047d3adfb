/**
 * The one way geosync waits for work that may outlive its caller: resolve with the work's value,
 * or with `onAbort()` the moment `signal` aborts (at once if it already has), whichever comes
 * first. The work itself is not stopped here (whoever owns it decides), and the abort listener is
 * always removed, so a long-lived signal does not collect one listener per wait.
 * A rejection of `work` rejects the result, unless `onAbort()` has already answered.
 */
export function untilAborted<T, U>(work: Promise<T>, signal: AbortSignal, onAbort: () => U): Promise<T | U> {
  if (signal.aborted) return Promise.resolve(onAbort());
  return new Promise<T | U>((resolve, reject) => {
    const abort = (): void => resolve(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}
