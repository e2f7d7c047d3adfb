/**
 * Per-region circuit breaker over probe outcomes: a region whose storage keeps failing or timing
 * out is skipped (a down peer must not slow every lookup) and re-tried with exactly one trial
 * probe after a cool-down. What counts (decided by RegionLane, region.ts):
 * - an answer from the storage is a success: found, not found, and a 403 (S3 without
 *   s3:ListBucket answers 403 for a missing key);
 * - an error the storage returns (refused, reset, 5xx, throttled) is a failure;
 * - silence until the lookup's deadline is a failure only when it was the region's and not this
 *   side's (blame.ts): a deadline passed because this process or machine was overloaded is no
 *   evidence against a region.
 */
import type { Clock } from '../clock/clock';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What tryAcquire hands out: whether this probe is the half-open state's single trial. */
export interface BreakerPermit {
  readonly trial: boolean;
}

const ORDINARY: BreakerPermit = { trial: false };
const TRIAL: BreakerPermit = { trial: true };

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

  /**
   * May a probe go to this region now? In half_open only one trial at a time is allowed; the
   * permit says whether this probe is it, so that only the trial's own outcome ends the trial.
   */
  tryAcquire(): BreakerPermit | null {
    const state = this.current();
    if (state === 'closed') return ORDINARY;
    if (state === 'open' || this.trialInFlight) return null;
    this.setState('half_open');
    this.trialInFlight = true;
    return TRIAL;
  }

  /** The storage answered: whoever reports it, the region works again. */
  success(_permit: BreakerPermit = ORDINARY): void {
    this.trialInFlight = false;
    this.failures = 0;
    this.setState('closed');
  }

  failure(permit: BreakerPermit = ORDINARY): void {
    if (permit.trial) {
      this.trialInFlight = false;
      this.open();
      return;
    }
    // A probe that started before the breaker opened and fails late must neither extend the
    // cool-down nor end a trial that is still running.
    if (this.state !== 'closed') return;
    this.failures += 1;
    if (this.failures >= this.opts.failureThreshold) this.open();
  }

  /** The probe ended without telling anything (cancelled once the answer was decided elsewhere). */
  abandon(permit: BreakerPermit = ORDINARY): void {
    if (permit.trial) this.trialInFlight = false;
  }

  private open(): void {
    this.openedAt = this.clock.now();
    this.setState('open');
  }

  private setState(state: BreakerState): void {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }
}
