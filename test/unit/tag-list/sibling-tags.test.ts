import { SiblingTags, type SiblingTagsResult } from '../../../src/tag-list/sibling-tags';
import { tagsFolderKey } from '../../../src/storage/keys';
import { FAILURE_TTL_MS } from '../../../src/tag-freshness/check';
import { ManualClock } from '../../support/clock';
import { FakeProbe, FOUND, flush } from '../locate/fake-probe';

const PREFIX = tagsFolderKey('team/app');
const never = new AbortController().signal;

function setup(a: FakeProbe, c: FakeProbe, ttlMs = 1000) {
  const clock = new ManualClock();
  let rounds = 0;
  const tags = new SiblingTags({
    siblings: [a, c],
    clock,
    ttlMs,
    workTimeoutMs: 600,
    onStorageRound: () => rounds++,
  });
  return { clock, tags, rounds: () => rounds };
}

test("the union of every sibling's tags, listed once per bound however many ask", async () => {
  const a = new FakeProbe('a', () => FOUND);
  const c = new FakeProbe('c', () => FOUND);
  a.listings.set(PREFIX, ['v1', 'v2']);
  c.listings.set(PREFIX, ['v2', 'v3']);
  const { clock, tags, rounds } = setup(a, c);
  const answers = await Promise.all([1, 2, 3].map(() => tags.tags('team/app', never)));
  for (const r of answers) expect(r).toEqual({ status: 'found', tags: ['v1', 'v2', 'v3'], failed: [] });
  expect(rounds()).toBe(1);
  expect(tags.cached('team/app')).toEqual(answers[0]);
  // Within the bound a tag added in a is not seen; after it, it is.
  a.listings.set(PREFIX, ['v1', 'v2', 'v4']);
  clock.advance(999);
  expect((await tags.tags('team/app', never)) as SiblingTagsResult).toMatchObject({
    tags: ['v1', 'v2', 'v3'],
  });
  clock.advance(1);
  expect(tags.cached('team/app')).toBeUndefined();
  expect(await tags.tags('team/app', never)).toMatchObject({ tags: expect.arrayContaining(['v4']) });
  expect(rounds()).toBe(2);
});

test('a sibling that fails contributes nothing, is named, and the answer is reused for the failure bound only', async () => {
  const a = new FakeProbe('a', () => FOUND);
  const c = new FakeProbe('c', () => ({ status: 'error', kind: 'denied', message: 'no list permission' }));
  a.listings.set(PREFIX, ['v1']);
  const { clock, tags } = setup(a, c, 10_000);
  expect(await tags.tags('team/app', never)).toEqual({ status: 'found', tags: ['v1'], failed: ['c:denied'] });
  clock.advance(FAILURE_TTL_MS);
  expect(tags.cached('team/app')).toBeUndefined();
});

test("a waiter's deadline answers timeout at once; the shared listing goes on and is reused", async () => {
  const a = new FakeProbe('a', () => 'manual');
  const c = new FakeProbe('c', () => FOUND);
  const { tags } = setup(a, c);
  const waiter = new AbortController();
  const pending = tags.tags('team/app', waiter.signal);
  waiter.abort();
  expect(await pending).toEqual({ status: 'timeout' });
  a.listings.set(PREFIX, ['v9']);
  a.release(FOUND);
  await flush();
  expect(tags.cached('team/app')).toMatchObject({ tags: ['v9'] });
});

test('a listing that hangs ends at the work deadline, as a failure of that sibling', async () => {
  const a = new FakeProbe('a', () => 'hang');
  const c = new FakeProbe('c', () => FOUND);
  c.listings.set(PREFIX, ['v1']);
  const { clock, tags } = setup(a, c);
  const pending = tags.tags('team/app', never);
  clock.advance(600);
  await flush();
  expect(await pending).toEqual({ status: 'found', tags: ['v1'], failed: ['a:aborted'] });
});
