import { CircuitBreaker, type BreakerState } from '../../../src/locate/breaker';
import { ManualClock } from '../../support/clock';

function breaker() {
  const clock = new ManualClock();
  const states: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 10_000 }, clock, (s) => states.push(s));
  return { b, clock, states };
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures and then refuses probes', () => {
    const { b, states } = breaker();
    b.failure();
    b.failure();
    expect(b.tryAcquire()).not.toBeNull();
    b.failure();
    expect(b.current()).toBe('open');
    expect(b.tryAcquire()).toBeNull();
    expect(states).toEqual(['open']);
  });

  it('a success in between resets the count', () => {
    const { b } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.current()).toBe('closed');
  });

  it('allows exactly one trial after the cool-down; success closes it', () => {
    const { b, clock, states } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(9_999);
    expect(b.tryAcquire()).toBeNull();
    clock.advance(1);
    expect(b.current()).toBe('half_open');
    expect(b.tryAcquire()).not.toBeNull();
    expect(b.tryAcquire()).toBeNull();
    b.success();
    expect(b.tryAcquire()).not.toBeNull();
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed trial opens it for another full cool-down', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(10_000);
    const trial = b.tryAcquire();
    expect(trial).toEqual({ trial: true });
    b.failure(trial ?? undefined);
    clock.advance(9_999);
    expect(b.current()).toBe('open');
    clock.advance(1);
    expect(b.tryAcquire()).not.toBeNull();
  });

  it('an abandoned trial frees the slot for another', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(10_000);
    const trial = b.tryAcquire();
    b.abandon(trial ?? undefined);
    expect(b.tryAcquire()).not.toBeNull();
  });

  it('a probe that started before the breaker opened and ends late does not touch the trial or the cool-down', () => {
    const { b, clock } = breaker();
    const early = b.tryAcquire();
    expect(early).toEqual({ trial: false });
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(5_000);
    b.failure(early ?? undefined); // late: must not restart the cool-down
    clock.advance(5_000);
    const trial = b.tryAcquire();
    expect(trial).toEqual({ trial: true });
    b.abandon(early ?? undefined); // not the trial: the trial is still running
    expect(b.tryAcquire()).toBeNull();
  });
});
