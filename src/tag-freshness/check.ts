/**
 * Tag freshness: when the local registry serves a manifest by tag, has a sibling moved that tag
 * past the local digest? Reads, per check, each sibling's `current/link` (a few bytes: the digest
 * the tag points at there), and only where a sibling differs, the local tag index entry of the
 * sibling's digest and the sibling's index entry of the local digest. The verdict is
 * src/tag-freshness/verdict.ts's rule, from tag history alone.
 *
 * A herd of pulls of one tag costs one storage round per `ttlMs` (the bound T): answers are cached
 * for T per (repository, tag, local digest) (failed ones for at most FAILURE_TTL_MS), and
 * concurrent checks share one piece of work, which no waiter's deadline cancels. A check that
 * fails or runs out of time never redirects: the local 200 stands (fail open).
 */
import type { Clock } from '../clock/clock';
import { setDeadline } from '../clock/deadline';
import {
  judgeTag,
  needsLocalIndexCheck,
  type FreshnessResult,
  type SiblingTagState,
  type TagVerdict,
} from './verdict';
import { untilAborted } from '../abort/until-aborted';
import { Coalescer } from '../util/coalesce';
import { FAILURE_TTL_MS } from '../util/failure-ttl';
import { TtlLruCache } from '../util/ttl-lru-cache';
import { parseDigest } from '../oci/reference';
import { tagCurrentLinkKey, tagIndexLinkKey } from '../storage/keys';
import type { ObjectProbe, ProbeResult, ReadResult } from '../storage/probe';

export type { FreshnessResult };

/** The storage reads a check needs from one region. */
export type TagStorage = Pick<ObjectProbe, 'region' | 'head' | 'read' | 'viaRegistryApi'>;

export interface TagFreshnessOptions {
  readonly local: TagStorage;
  /** Sibling regions in preference order. */
  readonly siblings: readonly TagStorage[];
  readonly clock: Clock;
  /** The bound T of a tag: how long one answer is reused; 0: the tag is not checked (bound.ts). */
  readonly ttlMsFor: (tag: string) => number;
  /** How long the shared work of one check may run, whatever its waiters' deadlines. */
  readonly workTimeoutMs: number;
  readonly maxEntries?: number;
  /** Called for each check that goes to storage (not answered from the cache or a shared one). */
  readonly onStorageRound?: () => void;
  /**
   * Called with each verdict a storage round gave (not a timeout or error: those say more about
   * this process's load than about the tag), so that other workers can `adopt` it.
   */
  readonly onLearnt?: (learnt: LearntVerdict) => void;
}

/** A verdict one worker learnt from storage, as other workers adopt it (src/workers/messages.ts). */
export interface LearntVerdict {
  readonly key: string;
  readonly result: TagVerdict;
  /** `clock.now()` when it was learnt: its reuse ends T after this, wherever it is adopted. */
  readonly learntAt: number;
  /** The tag's bound T. */
  readonly ttlMs: number;
}

export interface FreshnessCheck {
  readonly result: FreshnessResult;
  /** Answered from the cache, or by joining a check in flight. */
  readonly shared: 'cache' | 'joined' | 'own';
}

export class TagFreshness {
  private readonly cache: TtlLruCache<FreshnessResult>;
  private readonly inflight = new Coalescer<FreshnessResult>();

  constructor(private readonly opts: TagFreshnessOptions) {
    this.cache = TtlLruCache.byCount<FreshnessResult>(opts.maxEntries ?? 10_000, opts.clock);
  }

  /**
   * Takes another worker's verdict as if this one had learnt it then: reused until T after
   * `learntAt` (so the bound T holds across workers), unless this worker holds a verdict of its
   * own for the key (a failure it holds gives way: the other worker reached storage).
   */
  adopt(learnt: LearntVerdict): void {
    const remaining = learnt.learntAt + learnt.ttlMs - this.opts.clock.now();
    if (remaining <= 0) return;
    const own = this.cache.get(learnt.key);
    if (own && !isFailure(own)) return;
    this.cache.set(learnt.key, learnt.result, remaining);
  }

  /** Whether a local 200 of this tag is checked at all. */
  checks(tag: string): boolean {
    return this.opts.ttlMsFor(tag) > 0;
  }

  /** The answer reused for this tag and local digest, if one is (no storage, no waiting). */
  cached(repository: string, tag: string, localDigest: string): FreshnessResult | undefined {
    return this.cache.get(cacheKey(repository, tag, localDigest));
  }

  /** Resolves (never rejects) with the verdict, or `timeout` as soon as `signal` aborts. */
  async check(
    repository: string,
    tag: string,
    localDigest: string,
    signal: AbortSignal,
  ): Promise<FreshnessCheck> {
    const key = cacheKey(repository, tag, localDigest);
    const cached = this.cache.get(key);
    if (cached) return { result: cached, shared: 'cache' };
    const { promise, joined } = this.inflight.run(key, async () => {
      this.opts.onStorageRound?.();
      const result = await this.work(repository, tag, localDigest);
      const ttlMs = this.opts.ttlMsFor(tag);
      if (isFailure(result)) {
        this.cache.set(key, result, Math.min(ttlMs, FAILURE_TTL_MS));
      } else {
        this.cache.set(key, result, ttlMs);
        this.opts.onLearnt?.({ key, result, learntAt: this.opts.clock.now(), ttlMs });
      }
      return result;
    });
    const result = await untilAborted(promise, signal, (): FreshnessResult => ({ verdict: 'timeout' }));
    return { result, shared: joined ? 'joined' : 'own' };
  }

  private async work(repository: string, tag: string, localDigest: string): Promise<FreshnessResult> {
    const controller = new AbortController();
    const stop = setDeadline(this.opts.clock, () => controller.abort(), this.opts.workTimeoutMs);
    try {
      return await this.judge(repository, tag, localDigest, controller.signal);
    } catch (err) {
      // A probe that throws instead of answering: fail open like any other storage error.
      return { verdict: 'error', code: `threw:${(err as Error)?.name ?? 'unknown'}` };
    } finally {
      stop();
    }
  }

  private async judge(
    repository: string,
    tag: string,
    localDigest: string,
    signal: AbortSignal,
  ): Promise<FreshnessResult> {
    const currentKey = tagCurrentLinkKey(repository, tag);
    const currents = await Promise.all(this.opts.siblings.map((s) => s.read(currentKey, { signal })));
    if (signal.aborted) return { verdict: 'timeout' };
    const states = await Promise.all(
      this.opts.siblings.map((sibling, i) =>
        this.siblingState(sibling, currents[i] as ReadResult, repository, tag, localDigest, signal),
      ),
    );
    if (signal.aborted) return { verdict: 'timeout' };
    const failed = states.filter((s): s is { error: string } => 'error' in s);
    const known = states.filter((s): s is SiblingTagState => !('error' in s));
    const verdict = judgeTag(localDigest, known);
    // A sibling that could not be read is never chosen; if it alone could have been ahead, say so.
    if (verdict.verdict === 'fresh' && failed.length > 0) return { verdict: 'error', code: failed[0]!.error };
    return verdict;
  }

  private async siblingState(
    sibling: TagStorage,
    current: ReadResult,
    repository: string,
    tag: string,
    localDigest: string,
    signal: AbortSignal,
  ): Promise<SiblingTagState | { error: string }> {
    if (current.status === 'not_found') return { region: sibling.region };
    if (current.status === 'error') return { error: `${sibling.region}:${current.kind}` };
    const digest = current.text.trim();
    if (!parseDigest(digest)) return { error: `${sibling.region}:bad_link` };
    const state: SiblingTagState = {
      region: sibling.region,
      current: { digest, modified: current.lastModified },
    };
    if (!needsLocalIndexCheck(localDigest, state)) return state;
    if (sibling.viaRegistryApi) {
      // A registry's API keeps no tag history: a digest this region's tag never pointed at is
      // taken as the sibling being ahead (an independent move of the tag in both regions then
      // reads as ahead, not as a conflict); one it did point at is behind, as for storage.
      const localHasIt = known(
        await this.opts.local.head(tagIndexLinkKey(repository, tag, digest), { signal }),
      );
      return {
        ...state,
        ...(localHasIt === undefined ? {} : { localIndexHasCurrent: localHasIt }),
        ...(localHasIt === false ? { indexHasLocal: true } : {}),
      };
    }
    // Both index reads at once: the second matters only when the first says "never seen", but
    // one round trip fits the deadline better than two, and the tag rarely differs.
    const [localHasIt, siblingHasLocal] = await Promise.all([
      this.opts.local.head(tagIndexLinkKey(repository, tag, digest), { signal }),
      sibling.head(tagIndexLinkKey(repository, tag, localDigest), { signal }),
    ]);
    return { ...state, localIndexHasCurrent: known(localHasIt), indexHasLocal: known(siblingHasLocal) };
  }
}

function cacheKey(repository: string, tag: string, localDigest: string): string {
  return `${repository}:${tag}@${localDigest}`;
}

function known(r: ProbeResult): boolean | undefined {
  if (r.status === 'found') return true;
  if (r.status === 'not_found') return false;
  return undefined;
}

function isFailure(result: FreshnessResult): result is Exclude<FreshnessResult, TagVerdict> {
  return result.verdict === 'timeout' || result.verdict === 'error';
}
