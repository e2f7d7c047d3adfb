/**
 * Load shedding: how many distinct lookups may run at once, learnt from what finishes within the
 * deadline (additive increase, multiplicative decrease, as TCP's congestion control does,
 * https://www.rfc-editor.org/rfc/rfc5681#section-3.1). A lookup over the limit is not started:
 * the caller answers "pass" at once, which costs no storage request and no deadline, instead of
 * joining a queue whose tail would only time out and slow the lookups ahead of it.
 * - A lookup decided before its deadline while the limit was in use raises the limit by one.
 * - A deadline that passed because of this side (blame.ts, 'local') halves it, at most once per
 *   deadline, so one wave of simultaneous timeouts counts once.
 * A region's own slowness changes nothing here: its breaker deals with it.
 */
import type { Clock } from '../clock/clock';
import type { Blame } from './blame';

export interface AdmissionLimits {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The default limits: start at a quarter of what one region's probe cap allows, never below 4
 * running lookups (a herd of one key is one lookup), never above the probe cap.
 */
export function admissionFor(maxConcurrentProbesPerRegion: number): AdmissionLimits {
  const max = Math.max(4, maxConcurrentProbesPerRegion);
  return { initial: Math.max(4, Math.floor(max / 4)), min: 4, max };
}

export class LookupAdmission {
  private current: number;
  private running = 0;
  private lastCut = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly deadlineMs: number,
    private readonly clock: Clock,
  ) {
    this.current = clamp(limits.initial, limits);
  }

  get limit(): number {
    return this.current;
  }

  /** True when one more lookup may start now; it must then call finished() exactly once. */
  tryStart(): boolean {
    if (this.running >= this.current) return false;
    this.running += 1;
    return true;
  }

  /** A started lookup ended without telling anything about the load (it failed). */
  release(): void {
    this.running = Math.max(0, this.running - 1);
  }

  /** `blame`: how the silence of regions was judged, undefined when none was silent. */
  finished(blame: Blame | undefined): void {
    const wasInUse = this.running * 2 >= this.current;
    this.release();
    if (blame === undefined) {
      if (wasInUse) this.current = clamp(this.current + 1, this.limits);
    } else if (blame === 'local') {
      const now = this.clock.now();
      if (now - this.lastCut < this.deadlineMs) return;
      this.lastCut = now;
      this.current = clamp(Math.floor(this.current / 2), this.limits);
    }
  }
}

function clamp(n: number, l: AdmissionLimits): number {
  return Math.min(l.max, Math.max(l.min, n));
}
