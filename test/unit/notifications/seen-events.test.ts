import { SeenEvents } from '../../../src/notifications/seen-events';
import { ManualClock } from '../../support/clock';

test('an id counts once within its TTL, again after it, and memory stays bounded', () => {
  const clock = new ManualClock();
  const seen = new SeenEvents(clock, { maxEntries: 3, ttlMs: 60_000 });
  expect([seen.firstTime('a'), seen.firstTime('a')]).toEqual([true, false]);
  clock.advance(60_000);
  expect(seen.firstTime('a')).toBe(true);
  for (const id of ['b', 'c', 'd', 'e']) seen.firstTime(id);
  expect(seen.size).toBe(3);
  // The oldest ids went first: 'a' and 'b' are forgotten, 'e' is remembered.
  expect([seen.firstTime('e'), seen.firstTime('a')]).toEqual([false, true]);
});
