import { MissedPulls } from '../../../src/staleness/missed-pulls';
import { ManualClock } from '../../support/clock';

const bounds = { windowMs: 60_000, maxSamples: 100 };

test('pulls after the origin push are missed; pulls before it asked too early', () => {
  const clock = new ManualClock(1_000_000);
  const m = new MissedPulls(clock, bounds);
  m.failed('team/app:v1'); // 1_000_000: before the push at the origin
  clock.advance(2_000);
  m.failed('team/app:v1'); // 1_002_000
  m.failed('team/app@sha256:ab'); // 1_002_000
  m.failed('other:v1');
  expect(m.arrived(['team/app@sha256:ab', 'team/app:v1'], 1_001_000)).toBe(2);
  // Settled: a second arrival of the same content finds nothing pending.
  expect(m.arrived(['team/app@sha256:ab', 'team/app:v1'], 0)).toBe(0);
  expect(m.arrived(['other:v1'], 0)).toBe(1);
});

test('a failed pull is forgotten once the window has passed', () => {
  const clock = new ManualClock();
  const m = new MissedPulls(clock, bounds);
  m.failed('team/app:v1');
  clock.advance(60_000);
  expect(m.arrived(['team/app:v1'], 0)).toBe(0);
});
