/**
 * The tags the siblings' storage holds for a repository: one listing of each sibling's
 * `_manifests/tags/` folder, the way distribution itself answers `tags/list`
 * (registry/storage/tagstore.go). A herd of tag watchers costs one storage round per repository
 * per `ttlMs` (the bound): answers are cached that long, and concurrent asks share one round that
 * no waiter's deadline cancels (as tag-freshness/check.ts does).
 *
 * A sibling that cannot be listed (down, denied, slow) contributes nothing, and the answer says
 * so: the union is then less complete, never wrong, and reused for at most FAILURE_TTL_MS.
 */
import { untilAborted } from '../abort/until-aborted';
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import { tagsFolderKey } from '../storage/keys';
import type { ObjectProbe } from '../storage/probe';
import { FAILURE_TTL_MS } from '../tag-freshness/check';
import { Coalescer } from '../util/coalesce';
import { TtlLruCache } from '../util/ttl-lru-cache';

/** Tags listed per sibling and repository at most (a bound like any probe's; README "Tag lists"). */
export const MAX_SIBLING_TAGS = 10_000;

export type SiblingTagsResult =
  | {
      readonly status: 'found';
      /** Every tag any sibling lists, unsorted, without duplicates. */
      readonly tags: readonly string[];
      /** The siblings that could not be listed (`region:kind`), if any. */
      readonly failed: readonly string[];
    }
  | { readonly status: 'timeout' };

export interface SiblingTagsOptions {
  readonly siblings: readonly Pick<ObjectProbe, 'region' | 'list'>[];
  readonly clock: Clock;
  /** How long one answer is reused: the staleness bound of tag lists. */
  readonly ttlMs: number;
  /** How long the shared work of one listing may run, whatever its waiters' deadlines. */
  readonly workTimeoutMs: number;
  readonly maxEntries?: number;
  /** Called for each listing that goes to storage (not answered from the cache or a shared one). */
  readonly onStorageRound?: () => void;
}

export class SiblingTags {
  private readonly cache: TtlLruCache<SiblingTagsResult>;
  private readonly inflight = new Coalescer<SiblingTagsResult>();

  constructor(private readonly opts: SiblingTagsOptions) {
    this.cache = TtlLruCache.byCount<SiblingTagsResult>(opts.maxEntries ?? 10_000, opts.clock);
  }

  /** The answer reused for this repository, if one is (no storage, no waiting). */
  cached(repository: string): SiblingTagsResult | undefined {
    return this.cache.get(repository);
  }

  /** Resolves (never rejects) with the siblings' tags, or `timeout` as soon as `signal` aborts. */
  tags(repository: string, signal: AbortSignal): Promise<SiblingTagsResult> {
    const cached = this.cache.get(repository);
    if (cached) return Promise.resolve(cached);
    const { promise } = this.inflight.run(repository, async () => {
      this.opts.onStorageRound?.();
      const result = await this.work(repository);
      const failedSome = result.status !== 'found' || result.failed.length > 0;
      this.cache.set(
        repository,
        result,
        failedSome ? Math.min(this.opts.ttlMs, FAILURE_TTL_MS) : this.opts.ttlMs,
      );
      return result;
    });
    return untilAborted(promise, signal, (): SiblingTagsResult => ({ status: 'timeout' }));
  }

  private async work(repository: string): Promise<SiblingTagsResult> {
    const controller = new AbortController();
    const stop = setDeadline(this.opts.clock, () => controller.abort(), this.opts.workTimeoutMs);
    const prefix = tagsFolderKey(repository);
    try {
      const listed = await Promise.all(
        this.opts.siblings.map((s) =>
          s.list(prefix, { signal: controller.signal, max: MAX_SIBLING_TAGS }).catch((err: unknown) => ({
            status: 'error' as const,
            kind: `threw:${(err as Error)?.name ?? 'unknown'}`,
          })),
        ),
      );
      const tags = new Set<string>();
      const failed: string[] = [];
      listed.forEach((r, i) => {
        if (r.status === 'found') for (const t of r.names) tags.add(t);
        else if (r.status === 'error') failed.push(`${this.opts.siblings[i]!.region}:${r.kind}`);
      });
      return { status: 'found', tags: [...tags], failed };
    } finally {
      stop();
    }
  }
}
