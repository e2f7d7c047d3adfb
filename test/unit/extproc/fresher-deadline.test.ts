/**
 * How long a tag resolution waits for its freshness check: as long as a pull's lookup would wait
 * for the slowest sibling it asks now, between `lookupTimeoutMs` and a pull's bound.
 */
import { checkDeadlineMs } from '../../../src/extproc/fresher';
import type { Locator } from '../../../src/locate/locator';

function ctx(waits: Record<string, number | undefined>, regions = Object.keys(waits)) {
  const locator = { waitMs: (r: string) => waits[r] } as unknown as Locator;
  return {
    locator,
    lookupTimeoutMs: 150,
    locateTimeoutMs: 2000,
    regionUrls: new Map(regions.map((r) => [r, `http://${r}.example`])),
  };
}

test('a sibling that answers is waited for up to the bound, as a pull lookup waits for it', () => {
  expect(checkDeadlineMs(ctx({ near: 200, far: 2000 }))).toBe(2000);
});

test('siblings whose last probe went unanswered: their learnt deadlines, at least lookupTimeoutMs', () => {
  expect(checkDeadlineMs(ctx({ far: 320 }))).toBe(320);
  expect(checkDeadlineMs(ctx({ near: 40 }))).toBe(150);
});

test('siblings not asked now (breaker open, registry down), or none: lookupTimeoutMs', () => {
  expect(checkDeadlineMs(ctx({ open: undefined }))).toBe(150);
  expect(checkDeadlineMs(ctx({}))).toBe(150);
});

test("never past a pull's bound; a locator that says nothing keeps lookupTimeoutMs", () => {
  expect(checkDeadlineMs(ctx({ odd: 5000 }))).toBe(2000);
  expect(checkDeadlineMs({ ...ctx({ far: 2000 }), locator: {} as Locator })).toBe(150);
  const { locateTimeoutMs: _, ...noBound } = ctx({ far: 2000 });
  expect(checkDeadlineMs(noBound)).toBe(150);
});
