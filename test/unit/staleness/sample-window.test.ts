import { SampleWindow } from '../../../src/staleness/sample-window';
import { ManualClock } from '../../support/clock';

test('keeps what was added within the window, oldest first', () => {
  const clock = new ManualClock();
  const w = new SampleWindow(clock, { windowMs: 10_000, maxSamples: 100 });
  w.add(1);
  clock.advance(4_000);
  w.add(2);
  clock.advance(5_999);
  expect(w.current()).toEqual([1, 2]);
  clock.advance(1);
  expect(w.current()).toEqual([2]);
  clock.advance(4_000);
  expect([w.count, w.current()]).toEqual([0, []]);
});

test('never holds more than maxSamples: the oldest go first', () => {
  const clock = new ManualClock();
  const w = new SampleWindow(clock, { windowMs: 60_000, maxSamples: 3 });
  for (let i = 1; i <= 5000; i++) w.add(i);
  expect(w.current()).toEqual([4998, 4999, 5000]);
});
