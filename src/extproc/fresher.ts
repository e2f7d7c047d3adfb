/**
 * Tag freshness of a local 200 of a manifest by tag (src/tag-freshness/): serve a sibling's newer
 * manifest instead, if the tag moved there (a 307 exactly like a rescued 404's); otherwise, and
 * on any failure, the 200 stands.
 */
import { freshnessRecord } from '../decide/decision';
import type { PullTarget } from '../oci/pull';
import type { FreshnessResult } from '../tag-freshness/check';
import { lookup, type Plan, type StreamScope } from './context';

export async function fresher(
  scope: StreamScope,
  target: Extract<PullTarget, { kind: 'manifest_by_tag' }>,
  localDigest: string,
): Promise<Plan> {
  const { ctx } = scope;
  const freshness = ctx.freshness as NonNullable<typeof ctx.freshness>;
  const { repository, tag } = target;
  const {
    value: result,
    lookupMs,
    cancelled,
  } = await lookup(scope, {
    // The common case of a herd: the answer is reused within T.
    known: freshness.cached?.(repository, tag, localDigest),
    work: (signal) => freshness.check(repository, tag, localDigest, signal).then((c) => c.result),
    interrupted: (timedOut): FreshnessResult =>
      timedOut ? { verdict: 'timeout' } : { verdict: 'error', code: 'cancelled' },
    deadlineMs: ctx.lookupTimeoutMs,
  });
  if (cancelled) return { record: { outcome: 'pass', kind: 'manifest_by_tag', lookupMs }, decided: false };
  const url = result.verdict === 'newer' ? ctx.regionUrls.get(result.region) : undefined;
  const known = result.verdict !== 'newer' || url !== undefined;
  return {
    record: freshnessRecord(known ? result : { verdict: 'error', code: 'no_region_url' }, lookupMs),
    decided: true,
    ...(url !== undefined ? { redirectTo: url } : {}),
  };
}
