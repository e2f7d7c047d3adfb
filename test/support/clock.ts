/** A manual Clock for tests: time moves only when the test says so. */
import type { Clock } from '../../src/clock/clock';

export class ManualClock implements Clock {
  private t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }

  /**
   * A busy event loop: time jumps by `ms` first, then every timer due by then fires, late (each
   * sees now() at the end of the stall).
   */
  stall(ms: number): void {
    this.t += ms;
    this.advance(0);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
