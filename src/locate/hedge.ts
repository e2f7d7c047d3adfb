/**
 * Picks the region to redirect to from answers that arrive in any order. Regions are in
 * preference order (nearest first). The most preferred region that answered `found` wins, but a
 * less preferred one only after the hedge window: once the first `found` arrives, more preferred
 * regions still pending get `hedgeMs` to answer, so a fast far region does not beat a near one by
 * microseconds. The decision is made the moment it cannot change any more (every more preferred
 * region has answered, or the window closed, or the deadline passed), never later: a slow region
 * does not delay an answer another region can give.
 */
import type { Clock } from '../clock/clock';
import type { ProbeErrorKind } from '../storage/probe';

export type RegionAnswer =
  /** `text`: the key's content, when it was read whole (region.ts, readKey). */
  | { readonly status: 'found'; readonly lastModified?: Date; readonly text?: string }
  /**
   * `denied`: the storage refused to say (HTTP 403). S3 answers 403 instead of 404 for a missing key
   * when the caller may not list the bucket, so a 403 is an ordinary miss as far as a lookup can
   * tell: nothing shows the region holds the target.
   */
  | { readonly status: 'not_found'; readonly denied?: true }
  /**
   * The region was not asked. `authoritative`: it is known to be unusable (breaker open, registry
   * down), so a miss elsewhere may be cached; false when it was over its concurrency cap and might
   * well hold the target.
   */
  | { readonly status: 'skipped'; readonly authoritative: boolean }
  | { readonly status: 'error'; readonly kind: ProbeErrorKind };

export type Choice =
  | { readonly kind: 'found'; readonly index: number; readonly lastModified?: Date; readonly text?: string }
  /** `complete`: every asked region answered not_found (a miss that may be cached). */
  | { readonly kind: 'not_found'; readonly complete: boolean }
  | { readonly kind: 'error'; readonly errorKind: ProbeErrorKind }
  | { readonly kind: 'timeout' };

export function chooseRegion(
  answers: readonly Promise<RegionAnswer>[],
  opts: { readonly hedgeMs: number; readonly clock: Clock; readonly signal: AbortSignal },
): Promise<Choice> {
  return new Promise<Choice>((resolve) => {
    const settled: (RegionAnswer | undefined)[] = answers.map(() => undefined);
    let done = false;
    let hedgeClosed = false;
    let cancelHedge: (() => void) | undefined;

    const finish = (choice: Choice): void => {
      if (done) return;
      done = true;
      cancelHedge?.();
      opts.signal.removeEventListener('abort', onDeadline);
      resolve(choice);
    };
    const bestFound = (): Choice | undefined => {
      const index = settled.findIndex((a) => a?.status === 'found');
      const answer = settled[index];
      return answer?.status === 'found'
        ? { kind: 'found', index, lastModified: answer.lastModified, text: answer.text }
        : undefined;
    };
    const evaluate = (): void => {
      const best = bestFound();
      if (best?.kind === 'found') {
        const morePreferredPending = settled.slice(0, best.index).some((a) => a === undefined);
        if (!morePreferredPending || hedgeClosed) return finish(best);
        cancelHedge ??= opts.clock.setTimer(() => {
          hedgeClosed = true;
          evaluate();
        }, opts.hedgeMs);
        return;
      }
      if (settled.some((a) => a === undefined)) return;
      const error = settled.find((a) => a?.status === 'error');
      if (error?.status === 'error') return finish({ kind: 'error', errorKind: error.kind });
      const complete = settled.every(
        (a) => a?.status === 'not_found' || (a?.status === 'skipped' && a.authoritative),
      );
      finish({ kind: 'not_found', complete });
    };
    function onDeadline(): void {
      finish(bestFound() ?? { kind: 'timeout' });
    }

    if (opts.signal.aborted) return onDeadline();
    opts.signal.addEventListener('abort', onDeadline, { once: true });
    answers.forEach((p, i) =>
      p.then(
        (answer) => {
          settled[i] = answer;
          if (!done) evaluate();
        },
        () => {
          settled[i] = { status: 'error', kind: 'internal' };
          if (!done) evaluate();
        },
      ),
    );
    if (answers.length === 0) evaluate();
  });
}
