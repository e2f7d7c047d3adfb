/**
 * TagFreshness over scripted storage and a manual clock: the reads a check makes, the verdict,
 * the bound T on reuse, coalescing of a herd, and failing open.
 */
import { TagFreshness, type LearntVerdict } from '../../../src/tag-freshness/check';
import { FAILURE_TTL_MS } from '../../../src/util/failure-ttl';
import { tagCurrentLinkKey, tagIndexLinkKey } from '../../../src/storage/keys';
import { ManualClock } from '../../support/clock';
import { FakeProbe, FOUND, MISSING, flush } from '../locate/fake-probe';

const REPO = 'team/app';
const TAG = 'prod';
const V1 = `sha256:${'1'.repeat(64)}`;
const V2 = `sha256:${'2'.repeat(64)}`;
const T = 5_000;
const current = tagCurrentLinkKey(REPO, TAG);
const index = (d: string) => tagIndexLinkKey(REPO, TAG, d);

/** A region whose tag history is `history` (oldest first) and points at the last of it. */
function region(name: string, history: string[]): FakeProbe {
  const keys = new Set(history.map(index));
  const probe = new FakeProbe(name, (key) =>
    key === current ? (history.length > 0 ? FOUND : MISSING) : keys.has(key) ? FOUND : MISSING,
  );
  if (history.length > 0) probe.texts.set(current, `${history[history.length - 1]}`);
  return probe;
}

function setup(local: FakeProbe, siblings: FakeProbe[]) {
  const clock = new ManualClock();
  const f = new TagFreshness({ local, siblings, clock, ttlMsFor: () => T, workTimeoutMs: 1_000 });
  const check = (signal = new AbortController().signal) => f.check(REPO, TAG, V1, signal);
  return { clock, f, check };
}

test('a sibling that moved the tag past the local digest: newer, from its storage only', async () => {
  const local = region('b', [V1]);
  const a = region('a', [V1, V2]);
  const { check } = setup(local, [a]);
  expect((await check()).result).toEqual({
    verdict: 'newer',
    region: 'a',
    digest: V2,
    modified: new Date('2026-01-02T03:04:05Z'),
  });
  // One current link, one local index entry, one sibling index entry.
  expect([...a.calls.keys()].sort()).toEqual([current, index(V1)].sort());
  expect([...local.calls.keys()]).toEqual([index(V2)]);
});

test('a sibling that agrees costs one read; one that is behind is never chosen', async () => {
  const agrees = region('a', [V1]);
  expect((await setup(region('b', [V1]), [agrees]).check()).result).toEqual({ verdict: 'fresh' });
  expect(agrees.total).toBe(1);
  // b has been at V2 and moved back to V1; a is still at V2, which b has seen.
  const behind = region('a', [V1, V2]);
  expect((await setup(region('b', [V1, V2, V1]), [behind]).check()).result).toEqual({ verdict: 'fresh' });
});

test('both moved the tag independently: a conflict, the local answer stands', async () => {
  const { check } = setup(region('b', [V1]), [region('a', [V2])]);
  expect((await check()).result).toEqual({ verdict: 'conflict', regions: ['a'] });
});

test('a herd of checks shares one storage round, reused for T and no longer', async () => {
  const local = region('b', [V1]);
  const a = region('a', [V1, V2]);
  const { clock, check } = setup(local, [a]);
  const herd = await Promise.all(Array.from({ length: 1_000 }, () => check()));
  expect(new Set(herd.map((h) => JSON.stringify(h.result))).size).toBe(1);
  expect(herd.filter((h) => h.shared === 'own')).toHaveLength(1);
  expect(a.calls.get(current)).toBe(1);
  clock.advance(T - 1);
  expect((await check()).shared).toBe('cache');
  expect(a.calls.get(current)).toBe(1);
  clock.advance(1);
  expect((await check()).shared).toBe('own');
  expect(a.calls.get(current)).toBe(2);
});

test('a sibling that does not answer: the waiter leaves at its deadline with timeout, the work ends at its own', async () => {
  const hung = new FakeProbe('a', () => 'hang');
  const { clock, check } = setup(region('b', [V1]), [hung]);
  const waiter = new AbortController();
  const pending = check(waiter.signal);
  waiter.abort();
  expect((await pending).result).toEqual({ verdict: 'timeout' });
  clock.advance(1_000);
  await flush();
  // The shared work timed out too; that answer is reused for a second at most, then asked again.
  expect((await check()).result).toEqual({ verdict: 'timeout' });
  expect(hung.total).toBe(1);
  clock.advance(FAILURE_TTL_MS);
  const again = check(waiter.signal);
  expect((await again).result).toEqual({ verdict: 'timeout' });
  expect(hung.total).toBe(2);
});

test('an unreadable sibling is never chosen, and says why when it is the only one that could be ahead', async () => {
  const broken = new FakeProbe('a', () => ({ status: 'error', kind: 'unavailable', message: 'down' }));
  const { check } = setup(region('b', [V1]), [broken]);
  expect((await check()).result).toEqual({ verdict: 'error', code: 'a:unavailable' });
  const garbage = region('a', [V2]);
  garbage.texts.set(current, 'not a digest');
  expect((await setup(region('b', [V1]), [garbage]).check()).result).toEqual({
    verdict: 'error',
    code: 'a:bad_link',
  });
  // Another sibling that is ahead still wins.
  const c = region('c', [V1, V2]);
  expect((await setup(region('b', [V1]), [broken, c]).check()).result).toMatchObject({
    verdict: 'newer',
    region: 'c',
  });
});

describe('verdicts shared between workers (src/workers/)', () => {
  function pair() {
    const clock = new ManualClock();
    const learnt: LearntVerdict[] = [];
    /** A worker of region b whose sibling a moved the tag to V2. */
    const worker = (a: FakeProbe, onLearnt?: (l: LearntVerdict) => void) =>
      new TagFreshness({
        local: region('b', [V1]),
        siblings: [a],
        clock,
        ttlMsFor: () => T,
        workTimeoutMs: 1_000,
        ...(onLearnt ? { onLearnt } : {}),
      });
    const first = worker(region('a', [V1, V2]), (l) => learnt.push(l));
    const otherA = region('a', [V1, V2]);
    const other = worker(otherA);
    const check = (f: TagFreshness) => f.check(REPO, TAG, V1, new AbortController().signal);
    return { clock, learnt, first, other, otherA, check };
  }

  test("a verdict one worker learnt answers the other's checks from its cache, with no storage", async () => {
    const { learnt, first, other, otherA, check } = pair();
    expect((await check(first)).result).toMatchObject({ verdict: 'newer', digest: V2 });
    expect(learnt).toHaveLength(1);
    other.adopt(learnt[0]!);
    expect(await check(other)).toMatchObject({ result: { verdict: 'newer', digest: V2 }, shared: 'cache' });
    expect(otherA.total).toBe(0);
  });

  test('the bound T runs from when it was learnt, not from when it was adopted', async () => {
    const { clock, learnt, first, other, otherA, check } = pair();
    await check(first);
    clock.advance(T - 1_000);
    other.adopt(learnt[0]!);
    expect((await check(other)).shared).toBe('cache');
    clock.advance(1_000);
    expect((await check(other)).shared).toBe('own');
    expect(otherA.total).toBeGreaterThan(0);
    // Adopted after T: ignored.
    const late = pair();
    await late.check(late.first);
    late.clock.advance(T);
    late.other.adopt(late.learnt[0]!);
    expect((await late.check(late.other)).shared).toBe('own');
  });

  test("a failed round is not shared, and another worker's verdict replaces a failure held", async () => {
    const clock = new ManualClock();
    const learnt: LearntVerdict[] = [];
    const down = new FakeProbe('a', () => ({ status: 'error', kind: 'unavailable', message: 'down' }));
    const f = new TagFreshness({
      local: region('b', [V1]),
      siblings: [down],
      clock,
      ttlMsFor: () => T,
      workTimeoutMs: 1_000,
      onLearnt: (l) => learnt.push(l),
    });
    expect((await f.check(REPO, TAG, V1, new AbortController().signal)).result.verdict).toBe('error');
    expect(learnt).toEqual([]);
    // The same repository, tag and local digest, as another worker learnt it.
    const elsewhere = pair();
    await elsewhere.check(elsewhere.first);
    f.adopt({ ...elsewhere.learnt[0]!, result: { verdict: 'fresh' }, learntAt: clock.now() });
    expect(await f.check(REPO, TAG, V1, new AbortController().signal)).toEqual({
      result: { verdict: 'fresh' },
      shared: 'cache',
    });
  });
});
