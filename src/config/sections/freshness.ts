/**
 * `freshness:`: the bounded-staleness check of tags the local registry serves (a tag re-pointed in
 * a sibling is served fresh within `tagMaxStalenessMs`; src/tag-freshness/verdict.ts,
 * docs/replication-and-staleness.md "Staleness bound").
 */
import { defaulted, integer, section } from '../keys';

// One hour at most: a longer bound is replication's own lag, not a freshness promise.
const bound = (value: number) => defaulted(integer(0, 3_600_000), value);

export const freshnessSection = section(
  {
    tagMaxStalenessMs: bound(0),
    signatureTagMaxStalenessMs: bound(1000),
    tagListMaxStalenessMs: bound(1000),
  },
  {
    tagMaxStalenessMs:
      'tag freshness: a local 200 to a manifest by tag is served from a sibling whose tag moved past the local digest, with answers reused for at most this long (T); 0 = off. Regenerate the Envoy bootstrap after changing 0 ↔ non-zero (its matcher then lets those 200s through). See docs/replication-and-staleness.md, "Tag freshness"',
    signatureTagMaxStalenessMs:
      'the same check, on by default, for the tags signatures and attestations live under (`sha256-<hex>` of the referrers tag schema, cosign\'s `.sig`, `.att`, `.sbom`), reused at most this long; 0 = these tags follow `tagMaxStalenessMs`. See docs/replication-and-staleness.md, "Signatures and attestations"',
    tagListMaxStalenessMs:
      "tag lists: `GET /v2/<name>/tags/list` answers the union of the local tags and those the siblings' storage holds, each sibling listed at most once per this long; 0 = off (the local list passes as it is). See docs/tag-lists.md",
  },
);
