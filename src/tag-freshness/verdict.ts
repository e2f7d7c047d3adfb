/**
 * Is a tag the local registry serves (with a 200) behind a sibling's? Decided from distribution's
 * own tag history, never by comparing clocks of different regions: a repository keeps
 * `_manifests/tags/<tag>/index/<alg>/<hex>/link` for every digest the tag ever pointed at in that
 * region (distribution's tag store writes it on every tag operation), and
 * `_manifests/tags/<tag>/current/link` for the digest it points at now.
 *
 * - A sibling whose current digest is the local one agrees.
 * - A sibling whose current digest the local index holds is behind (the local tag has been there
 *   and moved on), or was rolled back to a digest this region already saw: it is never chosen.
 * - A sibling whose current digest the local index lacks, and whose own index holds the local
 *   digest, has seen what this region serves and moved past it: it is ahead.
 * - A sibling whose current digest the local index lacks and whose index lacks the local digest
 *   moved the tag independently of this region: a conflict. The rule: the local answer stands
 *   (no region's clock decides), counted, unless another sibling is provably ahead.
 *
 * Pure: the facts come from storage reads elsewhere; unknown facts (a read that failed or ran out
 * of time) never make a sibling ahead.
 */

export interface SiblingTagState {
  readonly region: string;
  /** The sibling's `current/link`, or undefined when the tag is not there (or unreadable). */
  readonly current?: { readonly digest: string; readonly modified?: Date };
  /** Whether the LOCAL tag index holds the sibling's current digest; undefined: unknown. */
  readonly localIndexHasCurrent?: boolean;
  /** Whether the SIBLING's tag index holds the local digest; undefined: unknown. */
  readonly indexHasLocal?: boolean;
}

export type TagVerdict =
  | { readonly verdict: 'fresh' }
  | {
      readonly verdict: 'newer';
      readonly region: string;
      readonly digest: string;
      /** When the sibling's tag was last written (its storage's clock): dates how stale we were. */
      readonly modified?: Date;
    }
  | { readonly verdict: 'conflict'; readonly regions: readonly string[] };

/** What a tag check gives: a verdict, or why there is none (the local answer then stands). */
export type FreshnessResult =
  TagVerdict | { readonly verdict: 'timeout' } | { readonly verdict: 'error'; readonly code: string };

/** `siblings` in preference order; the first sibling that is ahead wins. */
export function judgeTag(localDigest: string, siblings: readonly SiblingTagState[]): TagVerdict {
  const conflicts: string[] = [];
  for (const s of siblings) {
    const current = s.current;
    if (!current || current.digest === localDigest) continue;
    if (s.localIndexHasCurrent !== false) continue; // behind, or unknown
    if (s.indexHasLocal === true) {
      return {
        verdict: 'newer',
        region: s.region,
        digest: current.digest,
        ...(current.modified ? { modified: current.modified } : {}),
      };
    }
    if (s.indexHasLocal === false) conflicts.push(s.region);
  }
  return conflicts.length > 0 ? { verdict: 'conflict', regions: conflicts } : { verdict: 'fresh' };
}

/** What a sibling still needs read, given what is known so far (reads only what can matter). */
export function needsLocalIndexCheck(localDigest: string, s: SiblingTagState): boolean {
  return s.current !== undefined && s.current.digest !== localDigest;
}

export function needsSiblingIndexCheck(localDigest: string, s: SiblingTagState): boolean {
  return needsLocalIndexCheck(localDigest, s) && s.localIndexHasCurrent === false;
}
