/**
 * Which tags are checked for freshness, and for how long one answer is reused (the bound T):
 * signature and attestation tags (src/oci/reference.ts, isReferrerTag) by their own bound, on by
 * default, because a verifier reads them right after a pipeline signs; every other tag by
 * `tagMaxStalenessMs`, off by default, because it costs a check per tag pull. 0: not checked.
 */
import type { GeosyncConfig } from '../config/types';
import { isReferrerTag } from '../oci/reference';

export type FreshnessBounds = Pick<
  GeosyncConfig['freshness'],
  'tagMaxStalenessMs' | 'signatureTagMaxStalenessMs'
>;

export function freshnessBoundMs(bounds: FreshnessBounds, tag: string): number {
  if (isReferrerTag(tag) && bounds.signatureTagMaxStalenessMs > 0) return bounds.signatureTagMaxStalenessMs;
  return bounds.tagMaxStalenessMs;
}

/** Whether any tag is checked (geosync then reads the local tag index). */
export function anyFreshness(bounds: FreshnessBounds): boolean {
  return bounds.tagMaxStalenessMs > 0 || bounds.signatureTagMaxStalenessMs > 0;
}
