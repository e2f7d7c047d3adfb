/**
 * The tag-list union for an engine (`freshness.tagListMaxStalenessMs`): the siblings' tag
 * folders, and their registries' word on whether a client may list a repository. Both take
 * places in one admission window of their own (src/locate/admission.ts), so a flood of distinct
 * names or credentials is shed.
 */
import type { Clock } from '../clock/clock';
import type { GeosyncConfig } from '../config/types';
import { HEADER } from '../extproc/headers';
import { admissionFor, LookupAdmission } from '../locate/admission';
import type { ObjectProbe } from '../storage/probe';
import { SiblingListAccess } from '../tag-list/list-access';
import { SiblingTags } from '../tag-list/sibling-tags';
import { TagListUnion } from '../tag-list/union';

/**
 * How long one listing of the siblings' tag folders may run in the background, whatever its
 * waiters' deadline (lookupTimeoutMs): a repository of many tags takes a storage round trip per
 * 1,000 and its answer is still learnt for the next list (src/tag-list/sibling-tags.ts). One
 * listing holds at most 10,000 names per sibling, ten pages of at most `requestTimeoutMs` each.
 */
const TAG_LIST_WORK_TIMEOUT_MS = 10_000;
/**
 * How long a sibling's answer to "may this client list this repository" is reused per credential
 * (src/tag-list/list-access.ts), and how long one such check may take.
 */
const TAG_LIST_ACCESS_TTL_MS = 5_000;
const TAG_LIST_ACCESS_TIMEOUT_MS = 5_000;

/** Undefined when the union is off, or when there is no sibling to merge. */
export function buildTagLists(
  config: GeosyncConfig,
  clock: Clock,
  siblings: readonly { readonly probe: ObjectProbe }[],
  regionUrls: ReadonlyMap<string, string>,
): TagListUnion | undefined {
  if (config.freshness.tagListMaxStalenessMs <= 0 || siblings.length === 0) return undefined;
  // A listing costs a storage round trip per 1,000 tags of each sibling, more than a lookup's
  // HEAD: its window starts at a quarter of the probe cap (lookups' starts at half, so that a
  // burst of distinct new tags is not shed), and grows as listings finish in time.
  const limits = admissionFor(config.locate.maxConcurrentProbesPerRegion);
  const admission = new LookupAdmission(
    { ...limits, initial: Math.max(limits.min, Math.floor(limits.max / 4)) },
    config.lookupTimeoutMs,
    clock,
  );
  return new TagListUnion(
    new SiblingTags({
      siblings: siblings.map((s) => s.probe),
      clock,
      ttlMs: config.freshness.tagListMaxStalenessMs,
      workTimeoutMs: TAG_LIST_WORK_TIMEOUT_MS,
      waiterDeadlineMs: config.lookupTimeoutMaxMs,
      admission,
    }),
    new SiblingListAccess({
      siblingUrls: regionUrls,
      headers: { [HEADER.forwardedBy]: config.region },
      clock,
      ttlMs: TAG_LIST_ACCESS_TTL_MS,
      timeoutMs: TAG_LIST_ACCESS_TIMEOUT_MS,
      admission,
    }),
  );
}
