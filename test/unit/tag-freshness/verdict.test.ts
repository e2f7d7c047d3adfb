import {
  judgeTag,
  needsLocalIndexCheck,
  needsSiblingIndexCheck,
  type SiblingTagState,
} from '../../../src/tag-freshness/verdict';

const L = 'sha256:local';
const V2 = 'sha256:v2';
const V3 = 'sha256:v3';
const at = new Date('2026-12-01T10:00:00Z');

const sib = (region: string, o: Partial<SiblingTagState> & { digest?: string }): SiblingTagState => ({
  region,
  ...(o.digest ? { current: { digest: o.digest, modified: at } } : {}),
  ...(o.localIndexHasCurrent !== undefined ? { localIndexHasCurrent: o.localIndexHasCurrent } : {}),
  ...(o.indexHasLocal !== undefined ? { indexHasLocal: o.indexHasLocal } : {}),
});

describe('judgeTag', () => {
  test.each<[string, SiblingTagState[], ReturnType<typeof judgeTag>]>([
    ['no siblings', [], { verdict: 'fresh' }],
    ['sibling agrees', [sib('a', { digest: L })], { verdict: 'fresh' }],
    ['sibling has no such tag', [sib('a', {})], { verdict: 'fresh' }],
    [
      'sibling moved past the local digest: ahead',
      [sib('a', { digest: V2, localIndexHasCurrent: false, indexHasLocal: true })],
      { verdict: 'newer', region: 'a', digest: V2, modified: at },
    ],
    [
      'local has seen the sibling digest: the sibling is behind (or rolled back), never chosen',
      [sib('a', { digest: V2, localIndexHasCurrent: true, indexHasLocal: true })],
      { verdict: 'fresh' },
    ],
    [
      'both moved independently: conflict, the local answer stands',
      [sib('a', { digest: V2, localIndexHasCurrent: false, indexHasLocal: false })],
      { verdict: 'conflict', regions: ['a'] },
    ],
    [
      'unknown local index: never ahead',
      [sib('a', { digest: V2, indexHasLocal: true })],
      { verdict: 'fresh' },
    ],
    [
      'unknown sibling index: neither ahead nor conflict',
      [sib('a', { digest: V2, localIndexHasCurrent: false })],
      { verdict: 'fresh' },
    ],
    [
      'the first sibling ahead in preference order wins',
      [
        sib('c', { digest: V3, localIndexHasCurrent: false, indexHasLocal: true }),
        sib('a', { digest: V2, localIndexHasCurrent: false, indexHasLocal: true }),
      ],
      { verdict: 'newer', region: 'c', digest: V3, modified: at },
    ],
    [
      'a sibling ahead beats another in conflict',
      [
        sib('c', { digest: V3, localIndexHasCurrent: false, indexHasLocal: false }),
        sib('a', { digest: V2, localIndexHasCurrent: false, indexHasLocal: true }),
      ],
      { verdict: 'newer', region: 'a', digest: V2, modified: at },
    ],
  ])('%s', (_name, siblings, expected) => {
    expect(judgeTag(L, siblings)).toEqual(expected);
  });
});

test('reads only what can change the verdict', () => {
  expect(needsLocalIndexCheck(L, sib('a', { digest: L }))).toBe(false);
  expect(needsLocalIndexCheck(L, sib('a', {}))).toBe(false);
  expect(needsLocalIndexCheck(L, sib('a', { digest: V2 }))).toBe(true);
  expect(needsSiblingIndexCheck(L, sib('a', { digest: V2 }))).toBe(false);
  expect(needsSiblingIndexCheck(L, sib('a', { digest: V2, localIndexHasCurrent: true }))).toBe(false);
  expect(needsSiblingIndexCheck(L, sib('a', { digest: V2, localIndexHasCurrent: false }))).toBe(true);
});
