import { setDeadline } from '../../../src/clock/deadline';
import { ManualClock } from '../../support/clock';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('setDeadline', () => {
  it('runs once the time has passed and the event loop has read its sockets once more', async () => {
    const clock = new ManualClock();
    let fired = 0;
    setDeadline(clock, () => (fired += 1), 100);
    clock.advance(99);
    await turn();
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(0);
    await turn();
    expect(fired).toBe(1);
  });

  it('cancelled before its time, or between its time and that last turn, never runs', async () => {
    const clock = new ManualClock();
    let fired = 0;
    const early = setDeadline(clock, () => (fired += 1), 100);
    const late = setDeadline(clock, () => (fired += 1), 100);
    early();
    clock.advance(100);
    late();
    await turn();
    expect(fired).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
