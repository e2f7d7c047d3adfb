import {
  changes,
  combineWindows,
  nextLink,
  parseTagListRequest,
  readLocalAnswer,
  tagListBody,
  unionPage,
  type TagListRequest,
} from '../../../src/tag-list/page';

const req = (n?: number, last?: string): TagListRequest => ({
  repository: 'team/app',
  ...(n !== undefined ? { n } : {}),
  ...(last !== undefined ? { last } : {}),
});

describe('parseTagListRequest', () => {
  test.each([
    ['/v2/team/app/tags/list', req()],
    ['/v2/team/app/tags/list?n=5', req(5)],
    ['/v2/team/app/tags/list?n=5&last=v1', req(5, 'v1')],
    ['/v2/team/app/tags/list?last=', req()],
  ])('%s', (path, expected) => {
    expect(parseTagListRequest(path)).toEqual(expected);
  });

  test.each([
    '/v2/team/app/manifests/v1',
    '/v2/Team/app/tags/list',
    '/v2/team/app/tags/list?n=-1',
    '/v2/team/app/tags/list?n=abc',
    '/v2//tags/list',
    '/v2/team/../app/tags/list',
  ])('%s is not a tag list geosync merges', (path) => {
    expect(parseTagListRequest(path)).toBeUndefined();
  });
});

describe('unionPage', () => {
  test('every tag of both, once, in lexical order, when the local list is whole', () => {
    expect(unionPage({ tags: ['v1', 'latest'], more: false }, { tags: ['v2', 'v1', 'a-1'] }, req())).toEqual({
      tags: ['a-1', 'latest', 'v1', 'v2'],
    });
  });

  test('n cuts the union and names the next page by its last tag', () => {
    const page = unionPage({ tags: ['b', 'd'], more: false }, { tags: ['a', 'c', 'e'] }, req(3));
    expect(page).toEqual({ tags: ['a', 'b', 'c'], next: 'c' });
    expect(nextLink(req(3), page.next!)).toBe('</v2/team/app/tags/list?n=3&last=c>; rel="next"');
  });

  test('only tags after `last` (also when the local registry ignores it)', () => {
    expect(
      unionPage({ tags: ['a', 'b', 'c'], more: false }, { tags: ['bb', 'a0'] }, req(undefined, 'b')),
    ).toEqual({
      tags: ['bb', 'c'],
    });
  });

  test('a local page with more after it ends the union page at its last tag', () => {
    // Local tags after "d" are unknown here: "e" from a sibling waits for the next page.
    expect(unionPage({ tags: ['b', 'd'], more: true }, { tags: ['a', 'c', 'e'] }, req(5))).toEqual({
      tags: ['a', 'b', 'c', 'd'],
      next: 'd',
    });
  });

  test('walking pages yields the whole union, whatever the local page size (a registry that clamps n)', () => {
    const local = ['b', 'd', 'f', 'h', 'j'];
    const sibling = ['a', 'c', 'e', 'g', 'i', 'k', 'd'];
    for (const clamp of [1, 2, 3, 10]) {
      const seen: string[] = [];
      let last: string | undefined;
      for (let i = 0; i < 20; i++) {
        const after = local.filter((t) => last === undefined || t > last);
        const localPage = {
          tags: after.slice(0, Math.min(3, clamp)),
          more: after.length > Math.min(3, clamp),
        };
        const page = unionPage(localPage, { tags: sibling }, req(3, last));
        expect(page.tags.length).toBeLessThanOrEqual(3);
        seen.push(...page.tags);
        if (page.next === undefined) break;
        last = page.next;
      }
      expect(seen).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
    }
  });

  test('siblings known only up to `through` end the page there, local tags above it included', () => {
    // A sibling with more tags than one listing holds: its tags above "c" are unknown here.
    expect(unionPage({ tags: ['b', 'd'], more: false }, { tags: ['a', 'c'], through: 'c' }, req())).toEqual({
      tags: ['a', 'b', 'c'],
      next: 'c',
    });
    // The lower of the two ceilings wins, whichever it is.
    expect(
      unionPage({ tags: ['b', 'd'], more: true }, { tags: ['a', 'c', 'e'], through: 'e' }, req()),
    ).toEqual({
      tags: ['a', 'b', 'c', 'd'],
      next: 'd',
    });
    // A ceiling at or below `last` would make no progress: the local page passes.
    expect(unionPage({ tags: ['d'], more: false }, { tags: [], through: 'c' }, req(5, 'c'))).toEqual({
      tags: ['d'],
    });
  });

  test('combineWindows: every tag, up to the lowest ceiling', () => {
    expect(
      combineWindows([
        { tags: ['a', 'd'], through: 'd' },
        { tags: ['b', 'c'] },
        { tags: ['c'], through: 'c' },
      ]),
    ).toEqual({
      tags: ['a', 'd', 'b', 'c', 'c'],
      through: 'c',
    });
    expect(combineWindows([{ tags: ['a'] }])).toEqual({ tags: ['a'] });
  });

  test('names that are not tags are left out (a stray folder in storage)', () => {
    expect(
      unionPage({ tags: [], more: false }, { tags: ['v1', '.hidden', 'x'.repeat(129)] }, req()).tags,
    ).toEqual(['v1']);
  });

  test('changes: only when the union says more than the local page', () => {
    const local = { tags: ['v1'], more: false };
    expect(changes(local, unionPage(local, { tags: ['v1'] }, req()))).toBe(false);
    expect(changes(local, unionPage(local, { tags: ['v2'] }, req()))).toBe(true);
    expect(changes(local, unionPage(local, { tags: ['v2'] }, req(1)))).toBe(true); // a Link appears
  });
});

describe('readLocalAnswer', () => {
  test("a 200's tags; null tags (distribution 2.8) are none", () => {
    expect(readLocalAnswer('200', '{"name":"team/app","tags":["v1"]}', 'team/app')).toEqual({ tags: ['v1'] });
    expect(readLocalAnswer('200', '{"name":"team/app","tags":null}', 'team/app')).toEqual({ tags: [] });
  });

  test('a 404 NAME_UNKNOWN is an empty local list; any other 404 or a bad body is not merged', () => {
    const unknown = '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}';
    expect(readLocalAnswer('404', unknown, 'team/app')).toEqual({ tags: [] });
    expect(readLocalAnswer('404', '{"errors":[{"code":"NOT_FOUND"}]}', 'team/app')).toBeUndefined();
    expect(readLocalAnswer('200', '{"name":"other/app","tags":["v1"]}', 'team/app')).toBeUndefined();
    expect(readLocalAnswer('200', '{"name":"team/app","tags":[1]}', 'team/app')).toBeUndefined();
    expect(readLocalAnswer('200', '{"name":"team/app","tags":["v1"', 'team/app')).toBeUndefined();
    expect(readLocalAnswer('401', '{}', 'team/app')).toBeUndefined();
  });

  test("the body is distribution's shape", () => {
    expect(tagListBody('team/app', ['v1', 'v2'])).toBe('{"name":"team/app","tags":["v1","v2"]}\n');
  });
});
