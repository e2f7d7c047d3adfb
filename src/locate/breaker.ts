/**
 * Per-region circuit breaker over probe outcomes: a region whose storage keeps failing or timing
 * out is skipped (pitfall 8: a down peer must not slow every lookup) and re-tried with exactly one
 * trial probe after a cool-down. `found` and `not_found` are successes: the storage answered.
 */
import type { Clock } from '../clock/clock';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
    private readonly onState: (state: BreakerState) => void = () => {},
  ) {}

  /** The state as a lookup would see it now (an open breaker past its cool-down reads half_open). */
  current(): BreakerState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.opts.coolDownMs) return 'half_open';
    return this.state;
  }

  /** May a probe go to this region now? In half_open, only one trial at a time is allowed. */
  tryAcquire(): boolean {
    const state = this.current();
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.setState('half_open');
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.trialInFlight = false;
    this.failures = 0;
    this.setState('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this.state === 'half_open' || this.failures >= this.opts.failureThreshold) {
      this.openedAt = this.clock.now();
      this.setState('open');
    }
  }

  /** The probe ended without telling anything (cancelled once the answer was decided elsewhere). */
  abandon(): void {
    this.trialInFlight = false;
  }

  private setState(state: BreakerState): void {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }
}
