/**
 * Tag freshness of a local 200 of a manifest by tag (src/tag-freshness/): serve a sibling's newer
 * manifest instead, if the tag moved there (a 307 exactly like a rescued 404's); otherwise, and
 * on any failure, the 200 stands.
 */
import { freshnessRecord } from '../decide/decision';
import type { PullTarget } from '../oci/pull';
import type { FreshnessResult } from '../tag-freshness/check';
import { lookup, type Plan, type StreamContext, type StreamScope } from './context';

/**
 * How long a resolution waits for its check: as long as a pull's lookup would wait for the
 * slowest sibling it asks now (src/locate/region.ts `waitMs`: up to `lookupTimeoutMaxMs` while the
 * sibling answers, its learnt deadline once one of its probes went unanswered, not at all while
 * its breaker is open or its registry down), and at least `lookupTimeoutMs`. One fixed
 * `lookupTimeoutMs` (150 ms) cut short every check of a sibling 250 ms away, and the first
 * resolution of a moved tag there was served stale once per T.
 */
export function checkDeadlineMs(
  ctx: Pick<StreamContext, 'locator' | 'lookupTimeoutMs' | 'locateTimeoutMs' | 'regionUrls'>,
): number {
  const waits = [...ctx.regionUrls.keys()].map((r) => ctx.locator.waitMs?.(r) ?? 0);
  const longest = Math.max(ctx.lookupTimeoutMs, ctx.locateTimeoutMs ?? ctx.lookupTimeoutMs);
  return Math.min(longest, Math.max(ctx.lookupTimeoutMs, ...waits));
}

export async function fresher(
  scope: StreamScope,
  target: Extract<PullTarget, { kind: 'manifest_by_tag' }>,
  localDigest: string,
): Promise<Plan> {
  const { ctx } = scope;
  const freshness = ctx.freshness as NonNullable<typeof ctx.freshness>;
  const { repository, tag } = target;
  // The common case of a herd: the answer is reused within T.
  const known = freshness.cached?.(repository, tag, localDigest);
  const {
    value: result,
    lookupMs,
    cancelled,
  } = await lookup(scope, {
    known,
    work: (signal) => freshness.check(repository, tag, localDigest, signal).then((c) => c.result),
    interrupted: (timedOut): FreshnessResult =>
      timedOut ? { verdict: 'timeout' } : { verdict: 'error', code: 'cancelled' },
    // Read only for a check that runs: a herd's resolutions are answered from `known`.
    deadlineMs: known ? 0 : checkDeadlineMs(ctx),
  });
  if (cancelled) return { record: { outcome: 'pass', kind: 'manifest_by_tag', lookupMs }, decided: false };
  const url = result.verdict === 'newer' ? ctx.regionUrls.get(result.region) : undefined;
  const urlKnown = result.verdict !== 'newer' || url !== undefined;
  return {
    record: freshnessRecord(urlKnown ? result : { verdict: 'error', code: 'no_region_url' }, lookupMs),
    decided: true,
    ...(url !== undefined ? { redirectTo: url } : {}),
  };
}
