import type { ListAccess } from '../../../src/tag-list/list-access';
import type { SiblingTagsListing, SiblingTagsResult } from '../../../src/tag-list/sibling-tags';
import { TagListUnion, type TagListAsk } from '../../../src/tag-list/union';
import { windowOf } from '../../../src/tag-list/window';

const never = new AbortController().signal;

function union(listing: SiblingTagsResult, access: Record<string, ListAccess>, cached = false) {
  const checked: string[] = [];
  const u = new TagListUnion(
    {
      cached: (_repository, after) =>
        cached && listing.status === 'found' ? within(listing, after) : undefined,
      tags: async (_repository, after) => (listing.status === 'found' ? within(listing, after) : listing),
    },
    {
      cached: (region) => (cached ? access[region] : undefined),
      check: async (region) => {
        checked.push(region);
        return access[region] ?? 'unknown';
      },
    },
  );
  return { u, checked };
}

const within = (l: SiblingTagsListing, after: string | undefined): SiblingTagsListing => ({
  ...l,
  siblings: l.siblings.map((s) => ({
    region: s.region,
    window: windowOf(s.window.tags, after, s.window.through),
  })),
});

const listing = (a: string[], c: string[], through?: { a?: string }): SiblingTagsListing => ({
  status: 'found',
  siblings: [
    { region: 'a', window: through?.a ? { tags: a, through: through.a } : { tags: a } },
    { region: 'c', window: { tags: c } },
  ],
  failed: [],
});

const ask = (tags: string[], over: Partial<TagListAsk> = {}): TagListAsk => ({
  req: { repository: 'team/app' },
  local: { tags, more: false },
  notFound: false,
  ...over,
});

test('only siblings that would list the repository to the client add tags', async () => {
  const { u, checked } = union(listing(['private'], ['public']), { a: 'denied', c: 'allowed' });
  expect(await u.union(ask(['v1']), never)).toEqual({
    result: 'merged',
    page: { tags: ['public', 'v1'] },
    failed: ['a:client_not_allowed'],
  });
  expect(checked.sort()).toEqual(['a', 'c']);
});

test('a repository only a denying sibling holds stays 404 (complete), like one nobody holds', async () => {
  const { u } = union(listing(['private'], []), { a: 'denied' });
  expect(await u.union(ask([], { notFound: true }), never)).toEqual({
    result: 'complete',
    failed: ['a:client_not_allowed'],
  });
});

test('siblings whose tags change nothing are not asked; nothing to merge asks none', async () => {
  const { u, checked } = union(listing(['v1'], ['v1', 'v2']), { c: 'allowed' });
  expect(await u.union(ask(['v1']), never)).toMatchObject({ result: 'merged', page: { tags: ['v1', 'v2'] } });
  expect(checked).toEqual(['c']);
  const same = union(listing(['v1'], ['v1']), {});
  expect(await same.u.union(ask(['v1']), never)).toEqual({ result: 'complete', failed: [] });
  expect(same.checked).toEqual([]);
});

test("a denied sibling's ceiling does not cut the page; an allowed one's does", async () => {
  const cut = listing(['a1', 'a2'], [], { a: 'a2' });
  expect(await union(cut, { a: 'allowed' }).u.union(ask(['b1']), never)).toMatchObject({
    result: 'merged',
    page: { tags: ['a1', 'a2'], next: 'a2' },
  });
  expect(await union(cut, { a: 'denied' }).u.union(ask(['b1']), never)).toMatchObject({ result: 'complete' });
});

test('unknown (no answer in time) leaves the tags out as denied does', async () => {
  const { u } = union(listing(['x'], []), { a: 'unknown' });
  expect(await u.union(ask(['v1']), never)).toEqual({ result: 'complete', failed: ['a:access_unknown'] });
});

test('shed and timeout pass through; cached answers need every verdict cached', async () => {
  expect(await union({ status: 'shed' }, {}).u.union(ask(['v1']), never)).toEqual({ result: 'shed' });
  expect(await union({ status: 'timeout' }, {}).u.union(ask(['v1']), never)).toEqual({ result: 'timeout' });
  const l = listing(['v2'], []);
  expect(union(l, { a: 'allowed' }, true).u.cached(ask(['v1']))).toMatchObject({
    result: 'merged',
    page: { tags: ['v1', 'v2'] },
  });
  expect(union(l, {}, true).u.cached(ask(['v1']))).toBeUndefined();
  expect(union(l, { a: 'allowed' }, false).u.cached(ask(['v1']))).toBeUndefined();
});

test('an aborted wait for the checks is a timeout', async () => {
  const aborted = new AbortController();
  aborted.abort();
  const { u } = union(listing(['v2'], []), { a: 'allowed' });
  expect(await u.union(ask(['v1']), aborted.signal)).toEqual({ result: 'timeout' });
});
