import {
  byCodeUnit,
  byFolder,
  folderAfter,
  type ListOptions,
  type ListResult,
} from '../../../src/storage/probe';
import { LookupAdmission } from '../../../src/locate/admission';
import { nextLink, unionPage, combineWindows, type TagListRequest } from '../../../src/tag-list/page';
import {
  SiblingTags,
  type SiblingTagsListing,
  type SiblingTagsResult,
} from '../../../src/tag-list/sibling-tags';
import { FAILURE_TTL_MS } from '../../../src/util/failure-ttl';
import { ManualClock } from '../../support/clock';
import { flush } from '../locate/fake-probe';

const never = new AbortController().signal;

/**
 * A sibling's storage as the stores list it (storage/bounded-request.ts): folders in folder order,
 * from `startAfter` on, at most `max` with `more` past it. `answer` scripts failures and waits.
 */
class FolderStore {
  listings = 0;
  answer: 'now' | 'hang' | ListResult = 'now';
  private readonly waiting: (() => void)[] = [];
  constructor(
    readonly region: string,
    public names: string[] = [],
    public manual = false,
  ) {}

  async list(_prefix: string, opts: ListOptions): Promise<ListResult> {
    this.listings++;
    if (this.manual) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.answer === 'hang')
      return new Promise((resolve) =>
        opts.signal.addEventListener('abort', () =>
          resolve({ status: 'error', kind: 'aborted', message: '' }),
        ),
      );
    if (this.answer !== 'now') return this.answer;
    const names = this.names.filter((n) => folderAfter(n, opts.startAfter)).sort(byFolder);
    return names.length > opts.max
      ? { status: 'found', names: names.slice(0, opts.max), more: true }
      : { status: 'found', names };
  }

  release(): void {
    for (const w of this.waiting.splice(0)) w();
  }
}

function setup(
  siblings: FolderStore[],
  over: { ttlMs?: number; max?: number; admission?: LookupAdmission } = {},
) {
  const clock = new ManualClock();
  let rounds = 0;
  const tags = new SiblingTags({
    siblings,
    clock,
    ttlMs: over.ttlMs ?? 1000,
    workTimeoutMs: 10_000,
    waiterDeadlineMs: 150,
    ...(over.max ? { maxTagsPerListing: over.max } : {}),
    ...(over.admission ? { admission: over.admission } : {}),
    onStorageRound: () => rounds++,
  });
  return { clock, tags, rounds: () => rounds };
}

const tagsOf = (r: SiblingTagsResult | undefined) =>
  r?.status === 'found' ? [...new Set(r.siblings.flatMap((s) => s.window.tags))].sort(byCodeUnit) : r;

test("the union of every sibling's tags, listed once per bound however many ask", async () => {
  const a = new FolderStore('a', ['v1', 'v2']);
  const c = new FolderStore('c', ['v2', 'v3']);
  const { clock, tags, rounds } = setup([a, c]);
  const answers = await Promise.all([1, 2, 3].map(() => tags.tags('team/app', undefined, never)));
  for (const r of answers) expect(tagsOf(r)).toEqual(['v1', 'v2', 'v3']);
  expect(answers[0]).toMatchObject({ status: 'found', failed: [] });
  expect(rounds()).toBe(1);
  expect(tags.cached('team/app')).toEqual(answers[0]);
  // Within the bound a tag added in a is not seen; after it, it is.
  a.names.push('v4');
  clock.advance(999);
  expect(tagsOf(await tags.tags('team/app', undefined, never))).toEqual(['v1', 'v2', 'v3']);
  clock.advance(1);
  expect(tags.cached('team/app')).toBeUndefined();
  expect(tagsOf(await tags.tags('team/app', undefined, never))).toContain('v4');
  expect(rounds()).toBe(2);
});

test('a sibling that fails contributes nothing, is named, and the answer is reused for the failure bound only', async () => {
  const a = new FolderStore('a', ['v1']);
  const c = new FolderStore('c');
  c.answer = { status: 'error', kind: 'denied', message: 'no list permission' };
  const { clock, tags } = setup([a, c], { ttlMs: 10_000 });
  const r = await tags.tags('team/app', undefined, never);
  expect(r).toEqual({
    status: 'found',
    siblings: [{ region: 'a', window: { tags: ['v1'] } }],
    failed: ['c:denied'],
  });
  clock.advance(FAILURE_TTL_MS);
  expect(tags.cached('team/app')).toBeUndefined();
});

test("a waiter's deadline answers timeout at once; the listing goes on in the background and is reused", async () => {
  const a = new FolderStore('a', ['v9'], true);
  const { tags } = setup([a]);
  const waiter = new AbortController();
  const pending = tags.tags('team/app', undefined, waiter.signal);
  waiter.abort();
  expect(await pending).toEqual({ status: 'timeout' });
  a.release();
  await flush();
  expect(tagsOf(tags.cached('team/app'))).toEqual(['v9']);
});

test('a listing that hangs ends at its own deadline, as a failure of that sibling', async () => {
  const a = new FolderStore('a');
  a.answer = 'hang';
  const c = new FolderStore('c', ['v1']);
  const { clock, tags } = setup([a, c]);
  const pending = tags.tags('team/app', undefined, never);
  clock.advance(9_999);
  await flush();
  expect(await Promise.race([pending, Promise.resolve('pending')])).toBe('pending');
  clock.advance(1);
  await flush();
  expect(await pending).toMatchObject({ status: 'found', failed: ['a:aborted'] });
});

test('more tags than one listing holds: the window ends where the listing is complete, and the next page lists on', async () => {
  const names = Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  const a = new FolderStore('a', names);
  const { tags } = setup([a], { max: 10 });
  const first = (await tags.tags('team/app', undefined, never)) as SiblingTagsListing;
  expect(first.siblings[0]!.window).toEqual({ tags: names.slice(0, 10), through: 't09' });
  // A page inside the first window is answered from it, without storage.
  expect(tags.cached('team/app', 't03')?.siblings[0]!.window.tags).toEqual(names.slice(4, 10));
  // A page past it lists from its `last` on (the listing starts at the folder `t09/` itself,
  // since `t09-…` folders sort before it but their tags after it).
  expect(tags.cached('team/app', 't09')).toBeUndefined();
  const second = (await tags.tags('team/app', 't09', never)) as SiblingTagsListing;
  expect(second.siblings[0]!.window).toEqual({ tags: names.slice(10, 19), through: 't18' });
  expect(a.listings).toBe(2);
});

/**
 * Walks every page of `tags/list?n=<n>` through the union, as a client following Link does, and
 * returns what it saw: the local registry's pages come from `local`, the siblings' from storage.
 */
async function walk(local: string[], siblings: FolderStore[], n: number, max: number): Promise<string[]> {
  const { tags } = setup(siblings, { max });
  const sortedLocal = [...local].sort(byCodeUnit);
  const seen: string[] = [];
  let req: TagListRequest = { repository: 'team/app', n };
  for (let page = 0; page < 1000; page++) {
    const after = sortedLocal.filter((t) => req.last === undefined || t > req.last);
    const localPage = { tags: after.slice(0, n), more: after.length > n };
    const listed = (await tags.tags('team/app', req.last, never)) as SiblingTagsListing;
    const union = unionPage(localPage, combineWindows(listed.siblings.map((s) => s.window)), req);
    seen.push(...union.tags);
    if (union.next === undefined) return seen;
    expect(nextLink(req, union.next)).toContain(`last=${encodeURIComponent(union.next)}`);
    req = { ...req, last: union.next };
  }
  throw new Error('no last page');
}

test('walking the pages yields every tag exactly once, whatever the listing size, also where folder order differs', async () => {
  // Tags whose folders come in another order than the tags (`v1-rc/` before `v1/`), a long run of
  // `v1-…` before `v1/`, and two siblings cut at different points.
  const tricky = [
    'v1',
    'v1-rc1',
    'v1-rc2',
    'v1.0',
    'v1.0-rc',
    'v10',
    'v1_x',
    'v2',
    'a',
    'a-b',
    'a.b.c',
    'a-',
  ];
  const many = Array.from({ length: 40 }, (_, i) => `v1-${String(i).padStart(2, '0')}`);
  const cases: [string[], string[], string[]][] = [
    [['b', 'v1'], tricky, ['z', 'v1-rc1', 'latest']],
    [[], [...many, 'v1'], []],
    [['v1-05', 'zz'], many, ['v1', 'v1.5']],
  ];
  for (const [local, a, c] of cases) {
    const expected = [...new Set([...local, ...a, ...c])].sort(byCodeUnit);
    for (const max of [1, 2, 3, 7, 100]) {
      for (const n of [1, 4, 50]) {
        const seen = await walk(local, [new FolderStore('a', a), new FolderStore('c', c)], n, max);
        expect({ max, n, seen }).toEqual({ max, n, seen: expected });
      }
    }
  }
});

test('distinct listings beyond the admission window are shed at once, without storage; shared ones are not', async () => {
  const clock = new ManualClock();
  const admission = new LookupAdmission({ initial: 4, min: 4, max: 4 }, 150, clock);
  const a = new FolderStore('a', ['v1'], true);
  const { tags } = setup([a], { admission });
  const asked = Array.from({ length: 10 }, (_, i) => tags.tags(`team/app${i}`, undefined, never));
  const joined = tags.tags('team/app0', undefined, never);
  const shed = await Promise.all(asked.slice(4));
  expect(shed.every((r) => r.status === 'shed')).toBe(true);
  expect(a.listings).toBe(4);
  a.release();
  await flush();
  for (const r of [...(await Promise.all(asked.slice(0, 4))), await joined])
    expect(tagsOf(r)).toEqual(['v1']);
  // The window is free again.
  expect(admission.tryStart()).toBe(true);
});
