/**
 * How long a tag resolution waits for its freshness check: twice the longest learnt deadline of
 * the siblings lookups ask now (a check is two round trips in turn), between `lookupTimeoutMs` and
 * a pull's bound.
 */
import { checkDeadlineMs } from '../../../src/extproc/fresher';
import type { Locator } from '../../../src/locate/locator';

function ctx(deadlines: Record<string, number | undefined>, regions = Object.keys(deadlines)) {
  const locator = { deadlineMs: (r: string) => deadlines[r] } as unknown as Locator;
  return {
    locator,
    lookupTimeoutMs: 150,
    locateTimeoutMs: 2000,
    regionUrls: new Map(regions.map((r) => [r, `http://${r}.example`])),
  };
}

test('a sibling 250 ms away (learnt deadline 320 ms) is waited for twice its deadline', () => {
  expect(checkDeadlineMs(ctx({ near: 150, far: 320 }))).toBe(640);
});

test('near siblings only, or none learnt yet: lookupTimeoutMs', () => {
  expect(checkDeadlineMs(ctx({ near: 40 }))).toBe(150);
  expect(checkDeadlineMs(ctx({ open: undefined }))).toBe(150);
  expect(checkDeadlineMs(ctx({}))).toBe(150);
});

test("never past a pull's bound", () => {
  expect(checkDeadlineMs(ctx({ slow: 1800 }))).toBe(2000);
});

test('a locator that learns no deadlines, or one fixed deadline, keeps lookupTimeoutMs', () => {
  const fixed = { ...ctx({ far: 320 }), locator: {} as Locator };
  expect(checkDeadlineMs(fixed)).toBe(150);
  const { locateTimeoutMs: _, ...noBound } = ctx({ far: 320 });
  expect(checkDeadlineMs(noBound)).toBe(150);
});
