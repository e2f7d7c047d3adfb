import { completeThrough, continueAfter, covers, tagsAfter, windowOf } from '../../../src/tag-list/window';

describe('completeThrough: how far a listing cut in folder order holds every tag', () => {
  test.each<[string, string[], string, string | undefined, string | undefined]>([
    ['no tag continues into the last folder: up to it', ['a', 'b', 'c'], 'c', undefined, 'c'],
    // Folder order a/, v1-rc/ ; v1/ is not listed yet although v1 < v1-rc: the ceiling stays below v1.
    ['`v1` is not listed before `v1-rc/`', ['a', 'v1-rc'], 'v1-rc', undefined, 'a'],
    ['the shortest such prefix is the lowest', ['1', '2.3.1-rc', '1.9'], '2.3.1-rc', undefined, '1.9'],
    [
      'nothing below it yet: no ceiling (the listing goes on)',
      ['v1-a', 'v1-b'],
      'v1-b',
      undefined,
      undefined,
    ],
    // After `v1` itself, `v1` is no longer a gap: the listing of v1-a, v1-b holds every tag up to v1-b.
    ['a prefix at or below `after` is no gap', ['v1-a', 'v1-b'], 'v1-b', 'v1', 'v1-b'],
    ['nothing after `after`', ['a'], 'a', 'b', undefined],
  ])('%s', (_what, tags, last, after, expected) => {
    expect(completeThrough(tags, last, after)).toBe(expected);
  });

  test('continueAfter skips the whole folder', () => {
    expect(continueAfter('v1')).toBe('v1/~');
  });
});

test('windowOf keeps what lies after the start and up to the ceiling, sorted', () => {
  expect(windowOf(['d', 'b', 'a', 'c'], 'a', 'c')).toEqual({ tags: ['b', 'c'], through: 'c' });
  expect(windowOf(['b', 'a'], undefined, undefined)).toEqual({ tags: ['a', 'b'] });
});

test('covers: a window answers a page that starts at or after it and ends below its ceiling', () => {
  expect(covers({}, undefined, 'x')).toBe(true);
  expect(covers({ through: 'm' }, undefined, 'c')).toBe(true);
  expect(covers({ through: 'm' }, undefined, 'm')).toBe(false);
  expect(covers({}, 'c', undefined)).toBe(false);
  expect(covers({}, 'c', 'b')).toBe(false);
  expect(covers({}, 'c', 'd')).toBe(true);
});

test('tagsAfter: a binary search of a sorted list', () => {
  const sorted = ['a', 'b', 'c', 'd'];
  expect(tagsAfter(sorted, undefined)).toBe(sorted);
  expect(tagsAfter(sorted, 'b')).toEqual(['c', 'd']);
  expect(tagsAfter(sorted, 'bb')).toEqual(['c', 'd']);
  expect(tagsAfter(sorted, '0')).toEqual(sorted);
  expect(tagsAfter(sorted, 'z')).toEqual([]);
});
