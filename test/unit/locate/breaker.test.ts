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
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.current()).toBe('open');
    expect(b.tryAcquire()).toBe(false);
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
    expect(b.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(b.current()).toBe('half_open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.success();
    expect(b.tryAcquire()).toBe(true);
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed trial opens it for another full cool-down', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    clock.advance(9_999);
    expect(b.current()).toBe('open');
    clock.advance(1);
    expect(b.tryAcquire()).toBe(true);
  });

  it('an abandoned trial frees the slot for another', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.abandon();
    expect(b.tryAcquire()).toBe(true);
  });
});
