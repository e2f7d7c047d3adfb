/**
 * What a bounded listing of one sibling's tag folders says about its tags, in the tags' own
 * order (the order of `tags/list`, https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags).
 * Stores list folders by `name/` (storage/probe.ts, byFolder), where a tag followed by `-` or `.`
 * sorts before the tag itself: a listing that stopped at folder `v1-rc/` has not reached `v1/`,
 * although `v1` sorts before `v1-rc`. So a listing cut at `max` holds every tag after its start
 * only up to a ceiling that can lie below its last name. Pure functions of plain values.
 */
import { byCodeUnit } from '../storage/probe';

/**
 * Where a listing goes on after folder `last`: `~` sorts after every character of the keys in a
 * tag's folder (`current/link`, `index/sha256/<hex>/link`), so nothing of `last/` is listed again.
 */
export function continueAfter(last: string): string {
  return `${last}/~`;
}

/**
 * The greatest tag up to which a listing of the tags after `after` is complete, when it stopped
 * (more remain) at folder `last` having listed `tags`; undefined when no tag after `after` is
 * known complete yet (the listing must go on).
 *
 * Every tag up to `last` is listed, except the tags that `last` continues with a character below
 * `/` (`-` or `.` in a tag): `v1` is not, when `last` is `v1-rc` (its folder `v1/` comes later). The shortest such prefix is the
 * smallest; every tag below it is listed, so the ceiling is the greatest listed tag below it
 * (or, with no such prefix, up to `last`). A ceiling that is a listed tag makes every page progress.
 */
export function completeThrough(
  tags: readonly string[],
  last: string,
  after: string | undefined,
): string | undefined {
  const above = (t: string) => after === undefined || t > after;
  let unlisted: string | undefined;
  for (let i = 1; i < last.length && unlisted === undefined; i++) {
    const prefix = last.slice(0, i);
    if ((last[i] as string) < '/' && above(prefix)) unlisted = prefix;
  }
  const listed = (t: string) => (unlisted === undefined ? t <= last : t < unlisted);
  let through: string | undefined;
  for (const t of tags) if (above(t) && listed(t) && (through === undefined || t > through)) through = t;
  return through;
}

/** One sibling's tags after a point, complete up to `through` (absent: all of them). */
export interface SiblingWindow {
  /** Sorted, each after the window's start, none above `through`. */
  readonly tags: readonly string[];
  readonly through?: string;
}

/** The tags of `names` after `after` and up to `through`, sorted: what a window keeps. */
export function windowOf(
  names: readonly string[],
  after: string | undefined,
  through: string | undefined,
): SiblingWindow {
  const tags = names
    .filter((t) => (after === undefined || t > after) && (through === undefined || t <= through))
    .sort(byCodeUnit);
  return through === undefined ? { tags } : { tags, through };
}

/** Whether a window that starts after `start` answers a page after `after`: it reaches past it. */
export function covers(
  window: Pick<SiblingWindow, 'through'>,
  start: string | undefined,
  after: string | undefined,
): boolean {
  const begins = start === undefined || (after !== undefined && after >= start);
  return begins && (window.through === undefined || after === undefined || window.through > after);
}

/** The tags of a sorted list that sort after `after` (all of them when it is absent). */
export function tagsAfter(sorted: readonly string[], after: string | undefined): readonly string[] {
  if (after === undefined) return sorted;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) > after) hi = mid;
    else lo = mid + 1;
  }
  return lo === 0 ? sorted : sorted.slice(lo);
}
