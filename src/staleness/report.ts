/**
 * The published staleness report (`GET <admin>/staleness`), per region pair ending in this region.
 * Aggregates only: nothing in it names a repository, a tag or a digest, nor says whether some
 * image is in some region (geosync has no availability API). Field meanings: docs/replication-and-staleness.md.
 */
import type { Summary } from './summary';

export interface PullCounts {
  /** Manifest GETs that got a local 404 and were served by the source region through geosync. */
  readonly rescued: number;
  /** Manifest GETs answered 404 here although the source region already held the manifest. */
  readonly missed: number;
  /** rescued / (rescued + missed); null when both are 0. */
  readonly rescueFraction: number | null;
}

export interface PairReport {
  readonly sourceRegion: string;
  readonly region: string;
  /** Manifest pushes that arrived here from `sourceRegion`: push here − push there. */
  readonly replicationLag: Summary;
  /** First rescued pull of each manifest: rescue here − push at `sourceRegion`. */
  readonly timeToPullable: Summary;
  readonly pulls: PullCounts;
}

export interface StalenessReport {
  readonly region: string;
  readonly windowSeconds: number;
  /** When the report was made (ISO 8601, UTC). */
  readonly generatedAt: string;
  /** Manifest pushes here that no sibling held before: content that starts here. */
  readonly originPushes: number;
  /** One entry per sibling region, in configuration order, with or without samples. */
  readonly pairs: readonly PairReport[];
}

export function rescueFraction(rescued: number, missed: number): number | null {
  const total = rescued + missed;
  return total === 0 ? null : Math.round((rescued / total) * 1000) / 1000;
}
