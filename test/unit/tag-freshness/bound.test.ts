/** Which tags are checked for freshness, and their bound T (src/tag-freshness/bound.ts). */
import { isReferrerTag } from '../../../src/oci/reference';
import { anyFreshness, freshnessBoundMs } from '../../../src/tag-freshness/bound';

const HEX = '0123456789abcdef'.repeat(4);

test('referrer tags: the referrers tag schema and cosign suffixes, nothing else', () => {
  for (const tag of [`sha256-${HEX}`, `sha256-${HEX}.sig`, `sha256-${HEX}.att`, `sha256-${HEX}.sbom`])
    expect(isReferrerTag(tag)).toBe(true);
  for (const tag of [
    'latest',
    `sha256-${HEX.toUpperCase()}`,
    `sha256-${HEX}.sigs`,
    `sha512-${HEX}`,
    `sha256-${HEX}0`,
  ])
    expect(isReferrerTag(tag)).toBe(false);
});

test.each([
  // [tagMaxStalenessMs, signatureTagMaxStalenessMs, bound of a .sig tag, bound of `prod`, any]
  [0, 1000, 1000, 0, true],
  [5000, 1000, 1000, 5000, true],
  [5000, 0, 5000, 5000, true],
  [0, 0, 0, 0, false],
])('tag %i ms, signature %i ms: .sig → %i, prod → %i', (tag, signature, sig, prod, any) => {
  const bounds = { tagMaxStalenessMs: tag, signatureTagMaxStalenessMs: signature };
  expect(freshnessBoundMs(bounds, `sha256-${HEX}.sig`)).toBe(sig);
  expect(freshnessBoundMs(bounds, 'prod')).toBe(prod);
  expect(anyFreshness(bounds)).toBe(any);
});
