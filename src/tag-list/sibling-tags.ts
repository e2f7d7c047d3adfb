/**
 * The tags the siblings' storage holds for a repository: listings of each sibling's
 * `_manifests/tags/` folder, the way distribution itself answers `tags/list`
 * (registry/storage/tagstore.go). A herd of tag watchers costs one storage round per repository
 * per `ttlMs` (the bound): answers are cached that long, and concurrent asks share one round that
 * no waiter's deadline cancels (as tag-freshness/check.ts does).
 *
 * - **Windows.** One listing holds at most MAX_SIBLING_TAGS names per sibling; a sibling with more
 *   is complete only up to a ceiling (window.ts), and a page after it lists again from the page's
 *   `last` on. Pages of a repository that fits in one listing are all answered from its first.
 * - **Background.** A listing runs to its own deadline (`workTimeoutMs`), however soon its waiters
 *   give up: a repository whose listing takes several storage round trips is still learnt, and its
 *   answer serves the lists that come within the bound after it.
 * - **Shedding.** Distinct listings (a flood of random repository names: no cache or coalescing
 *   absorbs them) start only within an admission window like the pulls' lookups' (a
 *   LookupAdmission of its own, locate/admission.ts; app/geosync.ts): over it, the answer is
 *   `shed` at once and costs no storage request.
 *
 * A sibling that cannot be listed (down, denied, slow) contributes nothing, and the answer says
 * so: the union is then less complete, never wrong, and reused for at most FAILURE_TTL_MS.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { isTag } from '../oci/reference';
import { tagsFolderKey } from '../storage/keys';
import type { ObjectProbe } from '../storage/probe';
import { Coalescer } from '../util/coalesce';
import { FAILURE_TTL_MS } from '../util/failure-ttl';
import { TtlLruCache } from '../util/ttl-lru-cache';
import { completeThrough, continueAfter, covers, tagsAfter, windowOf, type SiblingWindow } from './window';

/** Names listed per sibling in one listing at most: the memory a window may hold. */
export const MAX_SIBLING_TAGS = 10_000;

/** What the cached windows may hold in all (estimated from the tags' lengths). */
const MAX_CACHED_BYTES = 64 * 1024 * 1024;

export interface SiblingTagsListing {
  readonly status: 'found';
  /** The siblings listed, each with its tags after the page's `last`. */
  readonly siblings: readonly { readonly region: string; readonly window: SiblingWindow }[];
  /** The siblings that could not be listed (`region:kind`), if any. */
  readonly failed: readonly string[];
}

export type SiblingTagsResult =
  | SiblingTagsListing
  | { readonly status: 'timeout' }
  /** Not listed: more distinct listings run than finish in time (the admission window). */
  | { readonly status: 'shed' };

/** The admission window (locate/admission.ts, LookupAdmission), as listings use it. */
export interface ListingAdmission {
  tryStart(client?: string): boolean;
  /** A listing that answered every sibling within its waiters' deadline. */
  finished(blame: undefined, client?: string): void;
  release(client?: string): void;
}

export interface SiblingTagsOptions {
  readonly siblings: readonly Pick<ObjectProbe, 'region' | 'list'>[];
  readonly clock: Clock;
  /** How long one answer is reused: the staleness bound of tag lists. */
  readonly ttlMs: number;
  /** How long the shared work of one listing may run, whatever its waiters' deadlines. */
  readonly workTimeoutMs: number;
  /** The waiters' deadline: a listing that answers within it may widen the admission window. */
  readonly waiterDeadlineMs: number;
  readonly admission?: ListingAdmission;
  readonly maxEntries?: number;
  /** Names per sibling in one listing (default MAX_SIBLING_TAGS; tests take fewer). */
  readonly maxTagsPerListing?: number;
  /** Called for each listing that goes to storage (not answered from the cache or a shared one). */
  readonly onStorageRound?: () => void;
}

const SHED: SiblingTagsResult = { status: 'shed' };

export class SiblingTags {
  private readonly cache: TtlLruCache<SiblingTagsListing>;
  private readonly inflight = new Coalescer<SiblingTagsResult>();

  constructor(private readonly opts: SiblingTagsOptions) {
    this.cache = new TtlLruCache<SiblingTagsListing>(
      { maxEntries: opts.maxEntries ?? 10_000, maxBytes: MAX_CACHED_BYTES },
      opts.clock,
      bytesOf,
    );
  }

  /** The answer reused for the tags after `after` (absent: all), if one is (no storage, no waiting). */
  cached(repository: string, after?: string): SiblingTagsListing | undefined {
    // The repository's first listing answers every page it reaches past.
    const first = this.cache.get(keyOf(repository, undefined));
    if (first && first.siblings.every((s) => covers(s.window, undefined, after))) return from(first, after);
    return after === undefined ? undefined : this.cache.get(keyOf(repository, after));
  }

  /**
   * Resolves (never rejects) with the siblings' tags after `after`, `shed`, or `timeout` as soon
   * as `signal` aborts. `client` is who asks, for the fairness of the admission window.
   */
  tags(
    repository: string,
    after: string | undefined,
    signal: AbortSignal,
    client?: string,
  ): Promise<SiblingTagsResult> {
    const cached = this.cached(repository, after);
    if (cached) return Promise.resolve(cached);
    const key = keyOf(repository, after);
    const { promise } = this.inflight.run(key, async () => {
      const admission = this.opts.admission;
      if (admission && !admission.tryStart(client)) return SHED;
      this.opts.onStorageRound?.();
      const started = this.opts.clock.now();
      const result = await this.work(repository, after);
      const complete = result.failed.length === 0;
      this.cache.set(key, result, complete ? this.opts.ttlMs : Math.min(this.opts.ttlMs, FAILURE_TTL_MS));
      if (complete && this.opts.clock.now() - started <= this.opts.waiterDeadlineMs)
        admission?.finished(undefined, client);
      else admission?.release(client);
      return result;
    });
    return untilAborted(promise, signal, (): SiblingTagsResult => ({ status: 'timeout' }));
  }

  private async work(repository: string, after: string | undefined): Promise<SiblingTagsListing> {
    const controller = new AbortController();
    const stop = setDeadline(this.opts.clock, () => controller.abort(), this.opts.workTimeoutMs);
    try {
      const listed = await Promise.all(
        this.opts.siblings.map((s) =>
          listSibling(
            s,
            tagsFolderKey(repository),
            after,
            this.opts.maxTagsPerListing ?? MAX_SIBLING_TAGS,
            controller.signal,
          ).catch((err: unknown) => ({
            failed: `threw:${(err as Error)?.name ?? 'unknown'}`,
          })),
        ),
      );
      const siblings: { region: string; window: SiblingWindow }[] = [];
      const failed: string[] = [];
      listed.forEach((r, i) => {
        const region = this.opts.siblings[i]!.region;
        if ('window' in r) siblings.push({ region, window: r.window });
        else failed.push(`${region}:${r.failed}`);
      });
      return { status: 'found', siblings, failed };
    } finally {
      stop();
    }
  }
}

/**
 * One sibling's tags after `after`: listings of `max` names from `after` on, the next
 * going on after the last folder of the one before only while no tag after `after` is known
 * complete yet (a long run of `v1-…` folders before `v1/`).
 */
async function listSibling(
  sibling: Pick<ObjectProbe, 'list'>,
  prefix: string,
  after: string | undefined,
  max: number,
  signal: AbortSignal,
): Promise<{ readonly window: SiblingWindow } | { readonly failed: string }> {
  const tags: string[] = [];
  // Every tag that sorts after `after` has its folder after it (ListOptions.startAfter).
  let start = after;
  for (;;) {
    const r = await sibling.list(prefix, {
      signal,
      max,
      ...(start === undefined ? {} : { startAfter: start }),
    });
    if (r.status === 'error') return { failed: r.kind };
    if (r.status === 'not_found') return { window: { tags: [] } };
    for (const name of r.names) if (isTag(name)) tags.push(name);
    const last = r.names[r.names.length - 1];
    if (!r.more || last === undefined) return { window: windowOf(tags, after, undefined) };
    const through = completeThrough(tags, last, after);
    if (through !== undefined) return { window: windowOf(tags, after, through) };
    start = continueAfter(last);
  }
}

function keyOf(repository: string, after: string | undefined): string {
  // A tag never is empty, so '' stands for "from the first tag".
  return `${repository}\n${after ?? ''}`;
}

/** `listing`'s tags after `after` only. */
function from(listing: SiblingTagsListing, after: string | undefined): SiblingTagsListing {
  if (after === undefined) return listing;
  return {
    ...listing,
    siblings: listing.siblings.map((s) => ({
      region: s.region,
      window: { ...s.window, tags: tagsAfter(s.window.tags, after) },
    })),
  };
}

function bytesOf(listing: SiblingTagsListing): number {
  let bytes = 0;
  for (const s of listing.siblings) for (const t of s.window.tags) bytes += 2 * t.length + 16;
  return bytes;
}
