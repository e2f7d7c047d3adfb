/**
 * The Locator over object storage: which sibling region already holds this manifest or blob?
 *
 * A lookup is answered from the cache when it can be; otherwise every eligible sibling (never this
 * region; not one whose registry is down or whose breaker is open) is probed in parallel, and
 * concurrent lookups of the same key over the same regions share those probes. The holder is
 * picked by preference with a hedge window (hedge.ts) and the answer is returned the moment it is
 * decided. The shared work has its own deadline and is not cancelled when a waiter leaves; what it
 * learns still fills the cache. A new shared lookup is not started when more are running than
 * finish within the deadline (admission.ts): it answers `shed` at once.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock/clock';
import type { BreakerConfig, CacheConfig } from '../config/types';
import type { PullTarget } from '../oci/pull';
import { keysFor, WARM_UP_KEY } from '../storage/keys';
import type { ObjectProbe, ProbeResult } from '../storage/probe';
import { TtlLruCache } from '../util/ttl-lru-cache';
import { untilAborted } from '../abort/until-aborted';
import { bounded } from '../abort/bounded';
import { admissionFor, LookupAdmission, type AdmissionLimits } from './admission';
import { Coalescer } from '../util/coalesce';
import type { Choice } from './hedge';
import { probeLanes } from './lookup';
import type { FoundManifest, LocateResult, Locator, StorageProblem } from './locator';
import { readManifestContents, type ContentsResult } from './manifest-contents';
import { guardObserver, type LocatorObserver } from './observer';
import { RegionLane } from './region';
import { checkStorage, warmUp } from './warm-up';

/** What a keep-warm request that got no answer by the hard limit, or was cut by close, comes to. */
const KEEP_WARM_TIMEOUT: ProbeResult = {
  status: 'error',
  kind: 'timeout',
  message: 'no answer by the hard limit',
};
const KEEP_WARM_ABORTED: ProbeResult = { status: 'error', kind: 'aborted', message: 'closing' };

export interface RegionProbe {
  readonly region: string;
  readonly probe: ObjectProbe;
}

export interface ProbeLocatorOptions {
  /** For blobs and manifests by digest, also require the global blob `data` object. */
  readonly probeBlobData: boolean;
  readonly hedgeMs: number;
  /**
   * The shortest deadline of one region's answer; each region's own follows its measured latency
   * (latency.ts). Each waiter also has its own signal.
   */
  readonly lookupTimeoutMs: number;
  /**
   * The longest: a region's learnt deadline never exceeds it, and a lookup's probes run at most
   * this long (a region that passed its deadline is still heard until then, for the cache).
   * Default: `lookupTimeoutMs` (one fixed deadline).
   */
  readonly lookupTimeoutMaxMs?: number;
  readonly maxConcurrentProbesPerRegion: number;
  readonly cache: CacheConfig;
  readonly breaker: BreakerConfig;
  /** Re-warm every region's connection this often (0: only at start). */
  readonly keepWarmIntervalMs: number;
  /** Distinct lookups running at once (admission.ts); default: admissionFor the probe cap. */
  readonly admission?: AdmissionLimits;
  /**
   * Read a manifest found in a sibling once and answer the lookups of the blobs and child
   * manifests it names from the cache (manifest-contents.ts).
   */
  readonly manifestContents: boolean;
  /**
   * Some region is asked with the client's own credentials (`regions[].registry.credentials:
   * client`): every answer is then cached and shared per credential (a keyed hash of it), so a
   * client only ever learns what its own credentials were answered.
   */
  readonly perCredential?: boolean;
}

/** Who asks: their address (admission.ts) and, for `perCredential`, their credentials. */
export interface Asker {
  readonly client?: string;
  /** The client's `Authorization` (a bearer token), sent to regions asked with it. */
  readonly authorization?: string;
}

/**
 * How long reading a found manifest's contents may take (a tag link, then the manifest). Off the
 * pull's critical path: the manifest's own answer is already on its way; lookups that follow
 * wait for the read only within their own deadline.
 */
export const CONTENTS_DEADLINE_MS = 2000;

/**
 * How long a lookup waits for a read of a manifest of its repository that is under way before it
 * asks storage itself. A read that answers in this time saves the lookup's storage request; a
 * slower one (slow GETs, fast HEADs) must not make the answer worse than an ordinary lookup's, so
 * the lookup then runs and whichever finds the holder first answers.
 */
export const CONTENTS_GRACE_MS = 20;

/**
 * How long a blob learnt from a manifest's contents is held as a hint. A registry accepts an image
 * manifest only once it holds every blob it names, so the hint serves the pull that follows the
 * manifest; but a replicator that copies a manifest before its blobs, or a blob deleted since,
 * makes the region answer that blob's redirect 404. Past this, the blob is asked of storage like
 * any other (and that answer is cached for `digestTtlMs`), so a wrong hint costs seconds, not the
 * cache's lifetime.
 */
export const HINT_TTL_MS = 5_000;

/**
 * How long the region a target was last found in (or hinted in, by a manifest's contents) answers
 * for it when a new lookup of it runs out of time (stale-if-error, RFC 5861 §4): a herd that
 * outlasts a tag's cache entry (`cache.tagTtlMs`) or a blob's hint (HINT_TTL_MS) looks it up again
 * while the holder serves the herd's redirected pulls, and that lookup can pass its deadline. The
 * redirect carries no stale content: the holder's registry resolves a tag itself when it serves
 * it, and a digest names its bytes; the worst a holder that lost the content costs is its own
 * 404, what the client gets without geosync. A blob never found nor hinted falls back to the
 * region its repository's manifest was last found in. Only a holder still asked (breaker not
 * open) whose registry is up is used.
 */
export const STALE_HOLDER_MS = 60_000;

/** Health of each region's registry (health.ts); the locator stops it on close. */
export interface RegistryHealthView {
  isUp(region: string): boolean;
  stop(): void;
}

export interface ProbeLocatorDeps {
  readonly clock?: Clock;
  readonly observer?: LocatorObserver;
  readonly health?: RegistryHealthView;
  /** Each manifest found in a sibling's storage (not in the cache), for the other workers. */
  readonly onManifestFound?: (target: Exclude<PullTarget, { kind: 'blob' }>, found: FoundManifest) => void;
}

type CachedAnswer =
  | { readonly outcome: 'found'; readonly region: string; readonly lastModified?: Date }
  | { readonly outcome: 'not_found' };

const NOT_FOUND: LocateResult = { outcome: 'not_found' };
const TIMEOUT: LocateResult = { outcome: 'timeout' };
const SHED: LocateResult = { outcome: 'shed' };

export class ProbeLocator implements Locator {
  private readonly opts: ProbeLocatorOptions;
  private readonly clock: Clock;
  private readonly observer: ReturnType<typeof guardObserver>;
  private readonly lanes: readonly RegionLane[];
  private readonly cache: TtlLruCache<CachedAnswer>;
  /** The region each tag was last found in, for STALE_HOLDER_MS. */
  private readonly lastHolders: TtlLruCache<string>;
  private readonly flights = new Coalescer<LocateResult>();
  /** Keys the hash of credentials in cache keys (perCredential); never leaves this process. */
  private readonly scopeSecret = randomBytes(32);
  /**
   * Lookups whose first answer is out but whose far regions are still heard (lookup.ts, `later`),
   * by flight key: a request for the same key waits for that answer instead of asking again.
   */
  private readonly later = new Map<string, Promise<LocateResult>>();
  private readonly maxMs: number;
  /** Aborts every shared lookup on close. */
  private readonly closing = new AbortController();
  private readonly probes: readonly ObjectProbe[];
  private readonly probeOf: ReadonlyMap<string, ObjectProbe>;
  /**
   * Reads of found manifests under way, by the manifest's cache key (each settles within
   * CONTENTS_DEADLINE_MS and never rejects).
   */
  private readonly reading = new Map<string, { readonly repository: string; readonly done: Promise<void> }>();
  private readonly admission: LookupAdmission;
  /** True from the start of warm() until its first round has answered. */
  private warmingUp = false;
  private stopKeepWarm: () => void = () => {};

  constructor(
    /** Sibling regions in preference order (never this region). */
    siblings: readonly RegionProbe[],
    /** Every option, from the validated configuration (src/app/locator-factory.ts) or a test. */
    opts: ProbeLocatorOptions,
    private readonly deps: ProbeLocatorDeps = {},
  ) {
    this.opts = opts;
    this.maxMs = Math.max(opts.lookupTimeoutMs, opts.lookupTimeoutMaxMs ?? opts.lookupTimeoutMs);
    this.probes = siblings.map((s) => s.probe);
    this.probeOf = new Map(siblings.map((s) => [s.region, s.probe]));
    this.clock = deps.clock ?? systemClock;
    this.observer = guardObserver(deps.observer);
    const laneOptions = {
      breaker: this.opts.breaker,
      maxConcurrentProbes: this.opts.maxConcurrentProbesPerRegion,
      deadline: { minMs: this.opts.lookupTimeoutMs, maxMs: this.maxMs },
    };
    this.lanes = siblings.map(
      (s) => new RegionLane(s.region, s.probe, laneOptions, this.clock, this.observer),
    );
    this.admission = new LookupAdmission(
      this.opts.admission ?? admissionFor(this.opts.maxConcurrentProbesPerRegion),
      this.opts.lookupTimeoutMs,
      this.clock,
    );
    this.cache = new TtlLruCache<CachedAnswer>(
      this.opts.cache,
      this.clock,
      (v) => (v.outcome === 'found' ? v.region.length * 2 + 32 : 8),
      (reason) => this.observer.cacheEviction(reason),
    );
    this.lastHolders = TtlLruCache.byCount<string>(10_000, this.clock);
  }

  async locate(
    target: PullTarget,
    signal: AbortSignal,
    client?: string,
    authorization?: string,
  ): Promise<LocateResult> {
    if (signal.aborted) return TIMEOUT;
    const keys = keysFor(target, { probeBlobData: this.opts.probeBlobData });
    const scope = this.scopeOf(authorization);
    const cacheKey = keys.join('\n') + scope;
    const asker: Asker = { ...(client ? { client } : {}), ...(authorization ? { authorization } : {}) };
    // The manifest that names this target may be being read: its answer saves a storage request
    // when it comes soon; a slower read races the ordinary lookup (CONTENTS_GRACE_MS).
    let reads: Promise<unknown> | undefined;
    if (this.reading.size > 0 && target.kind !== 'manifest_by_tag' && !this.cache.get(cacheKey)) {
      const mine = [...this.reading.values()].filter((r) => r.repository === target.repository);
      if (mine.length > 0) {
        const all = Promise.all(mine.map((r) => r.done));
        reads = all;
        await bounded(
          this.clock,
          CONTENTS_GRACE_MS,
          signal,
          () => all,
          () => undefined,
        );
        if (signal.aborted) return TIMEOUT;
      }
    }
    const cached = this.fromCache(target, cacheKey);
    if (cached) return cached;
    this.observer.cacheMiss();
    const lookup = this.lookUp(target, keys, cacheKey, signal, asker);
    // Whichever finds the holder first: the read under way (into the cache) or the lookup.
    const result = reads
      ? await firstFound(
          lookup,
          reads.then(() => this.fromCache(target, cacheKey)),
          signal,
        )
      : await lookup;
    if (result.outcome !== 'timeout') return result;
    // A blob never found nor hinted yet (its manifest's contents could not be read in time): the
    // region its repository's manifest was last found in accepted that manifest only with every
    // blob it names (manifest-contents.ts), and a blob pulled now most likely belongs to it.
    const repository =
      target.kind === 'blob' ? this.staleHolder(repositoryKey(target.repository, scope)) : undefined;
    return this.staleHolder(cacheKey) ?? repository ?? result;
  }

  waitMs(region: string): number | undefined {
    const lane = this.lanes.find((l) => l.name === region);
    return lane?.askable && this.registryUp(region) ? lane.waitMs() : undefined;
  }

  /** STALE_HOLDER_MS: the tag's last holder, when it is answering now. */
  private staleHolder(cacheKey: string): LocateResult | undefined {
    const region = this.lastHolders.get(cacheKey);
    const lane = this.lanes.find((l) => l.name === region);
    if (!region || !lane?.askable || !this.registryUp(region)) return undefined;
    return { outcome: 'found', region };
  }

  /** Asks the eligible regions' storage (shared by concurrent lookups of the same key). */
  private lookUp(
    target: PullTarget,
    keys: readonly string[],
    cacheKey: string,
    signal: AbortSignal,
    asker: Asker,
  ): Promise<LocateResult> {
    // Only a lookup that would have asked a region counts it as skipped.
    const eligible = this.lanes.filter((lane) => {
      const up = this.registryUp(lane.name);
      if (!up) this.observer.regionSkipped(lane.name, 'unhealthy');
      return up;
    });
    const asked = eligible.filter((lane) => {
      if (!lane.askable) this.observer.regionSkipped(lane.name, 'breaker_open');
      return lane.askable;
    });
    if (asked.length === 0) return Promise.resolve(NOT_FOUND);
    const flightKey = `${asked.map((l) => l.name).join(',')}\n${cacheKey}`;
    // A far region is still being heard for this key: wait for it, as long as its deadline.
    const heard = this.later.get(flightKey);
    if (heard) {
      this.observer.coalesced();
      const wait = Math.max(...asked.map((l) => l.deadlineMs()));
      return bounded(
        this.clock,
        wait,
        signal,
        () => heard,
        () => TIMEOUT,
      );
    }
    const { promise, joined } = this.flights.run(flightKey, () =>
      this.admit(target, keys, cacheKey, asked, asker, flightKey),
    );
    if (joined) this.observer.coalesced();
    return untilAborted(promise, signal, () => TIMEOUT);
  }

  /** The cache's answer now, without waiting or storage: most lookups of a herd. */
  cached(target: PullTarget, authorization?: string): LocateResult | undefined {
    return this.fromCache(target, this.keyOf(target, this.scopeOf(authorization)));
  }

  private keyOf(target: PullTarget, scope: string): string {
    return keysFor(target, { probeBlobData: this.opts.probeBlobData }).join('\n') + scope;
  }

  /** '' unless answers are per credential: then a keyed hash of the credential (none: anonymous). */
  private scopeOf(authorization: string | undefined): string {
    if (!this.opts.perCredential) return '';
    return `\n@${createHmac('sha256', this.scopeSecret)
      .update(authorization ?? '')
      .digest('base64url')}`;
  }

  private fromCache(target: PullTarget, cacheKey: string): LocateResult | undefined {
    const cached = this.cache.get(cacheKey);
    if (cached?.outcome === 'not_found') {
      this.observer.cacheHit(false);
      return NOT_FOUND;
    }
    // A cached holder whose registry is down now is no answer: the caller looks again.
    if (cached?.outcome !== 'found' || !this.registryUp(cached.region)) return undefined;
    this.observer.cacheHit(true);
    return cached;
  }

  private registryUp(region: string): boolean {
    return this.deps.health?.isUp(region) ?? true;
  }

  /** Starts the shared work, or sheds it when more lookups run than finish in time. */
  private async admit(
    target: PullTarget,
    keys: readonly string[],
    cacheKey: string,
    lanes: readonly RegionLane[],
    asker: Asker,
    flightKey: string,
  ): Promise<LocateResult> {
    const client = asker.client;
    if (!this.admission.tryStart(client)) {
      this.observer.lookupShed();
      return SHED;
    }
    const { choice, blame, later } = await probeLanes(lanes, keys, {
      deadlineMs: this.maxMs,
      hedgeMs: this.opts.hedgeMs,
      clock: this.clock,
      warmingUp: () => this.warmingUp,
      closing: this.closing.signal,
      // A tag's link names the manifest: read it now rather than again when the contents are read.
      readOne: this.opts.manifestContents && target.kind === 'manifest_by_tag',
      ...(asker.authorization ? { authorization: asker.authorization } : {}),
    }).catch((err: unknown) => {
      this.admission.release(client);
      throw err;
    });
    const answer = this.remember(target, cacheKey, choice, lanes, asker.authorization);
    if (!later) {
      this.admission.finished(blame, client);
      return answer;
    }
    // The lookup's slot stays taken while its far regions are heard: that is load too.
    const settled = later.then(
      (end) => {
        this.admission.finished(end.blame, client);
        return this.remember(target, cacheKey, end.choice, lanes, asker.authorization);
      },
      (): LocateResult => {
        this.admission.release(client);
        return TIMEOUT;
      },
    );
    this.later.set(flightKey, settled);
    void settled.finally(() => {
      if (this.later.get(flightKey) === settled) this.later.delete(flightKey);
    });
    return answer;
  }

  private remember(
    target: PullTarget,
    cacheKey: string,
    choice: Choice,
    lanes: readonly RegionLane[],
    authorization: string | undefined,
  ): LocateResult {
    switch (choice.kind) {
      case 'found': {
        const lane = lanes[choice.index] as RegionLane;
        const answer = { outcome: 'found', region: lane.name, lastModified: choice.lastModified } as const;
        this.cache.set(cacheKey, answer, this.ttlOf(target));
        this.lastHolders.set(cacheKey, lane.name, STALE_HOLDER_MS);
        if (target.kind !== 'blob') {
          this.lastHolders.set(
            repositoryKey(target.repository, this.scopeOf(authorization)),
            lane.name,
            STALE_HOLDER_MS,
          );
          this.readContents(target, cacheKey, answer, choice.text, authorization);
          // Another worker's cache is not per credential: it learns only what all share.
          if (!this.opts.perCredential)
            this.deps.onManifestFound?.(target, {
              region: answer.region,
              lastModified: answer.lastModified,
              ...(choice.text !== undefined ? { link: choice.text } : {}),
            });
        }
        return answer;
      }
      case 'not_found':
        // Only a miss every asked region confirmed is cached, and briefly: a cached miss must not
        // hide content that has just landed.
        if (choice.complete)
          this.cache.set(cacheKey, NOT_FOUND as CachedAnswer, this.opts.cache.negativeTtlMs);
        else this.cache.delete(cacheKey);
        return NOT_FOUND;
      case 'error':
        return { outcome: 'error', code: `probe_${choice.errorKind}` };
      case 'timeout':
        return TIMEOUT;
    }
  }

  /** Content addressed by digest never changes; a tag may move at any time. */
  private ttlOf(target: PullTarget): number {
    return target.kind === 'manifest_by_tag' ? this.opts.cache.tagTtlMs : this.opts.cache.digestTtlMs;
  }

  adoptFound(target: Exclude<PullTarget, { kind: 'blob' }>, found: FoundManifest): void {
    if (this.closing.signal.aborted || !this.probeOf.has(found.region) || this.opts.perCredential) return;
    const cacheKey = this.keyOf(target, '');
    if (this.cache.get(cacheKey)?.outcome === 'found') return;

    const answer = { outcome: 'found', region: found.region, lastModified: found.lastModified } as const;
    this.cache.set(cacheKey, answer, this.ttlOf(target));
    this.lastHolders.set(cacheKey, found.region, STALE_HOLDER_MS);
    this.lastHolders.set(repositoryKey(target.repository, ''), found.region, STALE_HOLDER_MS);
    // With the finder's link: a worker whose own lookup of the tag is in flight has read it too,
    // and a herd spread over the workers would ask the sibling for it once more per worker.
    this.readContents(target, cacheKey, answer, found.link);
  }

  /**
   * Reads the manifest `target` in the region that holds it, then caches each target it names as
   * held there too (manifest-contents.ts): a miss or a negative entry is replaced, a holder already
   * known is kept. One read per manifest at a time; bounded by CONTENTS_DEADLINE_MS and close.
   */
  private readContents(
    target: Exclude<PullTarget, { kind: 'blob' }>,
    cacheKey: string,
    holder: { readonly outcome: 'found'; readonly region: string; readonly lastModified?: Date },
    link?: string,
    authorization?: string,
  ): void {
    const probe = this.probeOf.get(holder.region);
    if (!this.opts.manifestContents || !probe || this.reading.has(cacheKey)) return;
    const read = bounded(
      this.clock,
      CONTENTS_DEADLINE_MS,
      this.closing.signal,
      (signal) => readManifestContents(probe, target, signal, link, authorization),
      (): ContentsResult => ({ outcome: 'timeout' }),
    ).then((result) => {
      this.observer.manifestContents(holder.region, result.outcome);
      if (result.outcome !== 'learnt' || this.closing.signal.aborted) return;
      for (const next of result.next) {
        // An index's children are only a hint: a registry may accept an index whose children it
        // lacks (distribution 3 with `validation.manifests.indexes.platforms: none`; OCI allows
        // sparse indexes), and a child cached as held there would answer its redirect 404 for the
        // cache's lifetime. A child is looked up like any manifest; the blobs an image manifest
        // names were verified by the registry on push (manifest-contents.ts), held for HINT_TTL_MS.
        if (next.kind !== 'blob') continue;
        const key = this.keyOf(next, this.scopeOf(authorization));
        if (this.cache.get(key)?.outcome !== 'found') {
          this.cache.set(key, holder, Math.min(HINT_TTL_MS, this.opts.cache.digestTtlMs));
          this.lastHolders.set(key, holder.region, STALE_HOLDER_MS);
        }
      }
    });
    // Never rejects for its waiters, and leaves the map however it ends.
    const done = read.catch(() => undefined).finally(() => this.reading.delete(cacheKey));
    this.reading.set(cacheKey, { repository: target.repository, done });
  }

  /**
   * Looks at every region's storage once (warm-up.ts), then HEADs WARM_UP_KEY again every
   * `keepWarmIntervalMs`: keep-alive sockets idle for long are closed by servers and load
   * balancers, and the first S3 request of a process also pays the SDK's own set-up.
   */
  async warm(signal: AbortSignal): Promise<readonly StorageProblem[]> {
    // Each keep-warm request is bounded by the hard limit: one that gets no answer by then marks
    // its region silent (region.ts `unheard`), one answered marks it heard.
    const once = (s: AbortSignal) =>
      Promise.all(
        this.lanes.map((lane, i) => {
          const started = this.clock.now();
          return bounded(
            this.clock,
            this.maxMs,
            s,
            (signal) => (this.probes[i] as ObjectProbe).head(WARM_UP_KEY, { signal }),
            (timedOut) => (timedOut ? KEEP_WARM_TIMEOUT : KEEP_WARM_ABORTED),
          ).then((r) => {
            if (r.status !== 'error') lane.learn(this.clock.now() - started);
            else if (r.kind === 'timeout' && !s.aborted) lane.unheard();
          });
        }),
      );
    this.warmingUp = true;
    const found = await Promise.all(this.lanes.map((lane, i) => this.warmLane(lane, i, signal))).finally(
      () => (this.warmingUp = false),
    );
    const problems = found.filter((p): p is StorageProblem => p !== undefined);
    const every = this.opts.keepWarmIntervalMs;
    if (every <= 0 || this.closing.signal.aborted) return problems;
    const schedule = (): void => {
      this.stopKeepWarm = this.clock.setTimer(() => {
        void once(this.closing.signal).then(() => {
          if (!this.closing.signal.aborted) schedule();
        });
      }, every);
    };
    this.stopKeepWarm();
    schedule();
    return problems;
  }

  /**
   * The first warm-up opens the connection (its handshakes are no lookup's), so the region's
   * latency is learnt from a second request on it: a far sibling's deadline then fits it from the
   * first pull on (latency.ts).
   */
  private async warmLane(
    lane: RegionLane,
    i: number,
    signal: AbortSignal,
  ): Promise<StorageProblem | undefined> {
    const probe = this.probes[i] as ObjectProbe;
    const problem = await warmUp(probe, signal);
    if (problem || signal.aborted) return problem;
    const started = this.clock.now();
    const again = await probe.head(WARM_UP_KEY, { signal });
    if (again.status !== 'error') lane.learn(this.clock.now() - started);
    return undefined;
  }

  async checkStorage(signal: AbortSignal): Promise<readonly StorageProblem[]> {
    const found = await Promise.all(this.probes.map((p) => checkStorage(p, signal)));
    return found.filter((p): p is StorageProblem => p !== undefined);
  }

  async close(): Promise<void> {
    this.stopKeepWarm();
    this.deps.health?.stop();
    this.closing.abort();
    this.cache.clear();
    await Promise.all(this.lanes.map((lane) => lane.close()));
  }
}

/** The first `found` of the two; else the lookup's own answer. */
/** The key of a repository's last manifest holder (STALE_HOLDER_MS): no layout key looks like it. */
function repositoryKey(repository: string, scope: string): string {
  return `manifests of ${repository}${scope}`;
}

/**
 * The first `found` of the lookup and the contents read; when the lookup ends without one (a far
 * region passed its deadline under a herd, or a miss), the read under way still decides: it is
 * bounded by CONTENTS_DEADLINE_MS, and what it teaches is as good as the lookup's answer. Without
 * this, a herd's blob lookups racing the read of their own manifest timed out at the region's
 * deadline and passed 404s for blobs the read learnt a moment later.
 */
function firstFound(
  lookup: Promise<LocateResult>,
  read: Promise<LocateResult | undefined>,
  signal: AbortSignal,
): Promise<LocateResult> {
  return new Promise<LocateResult>((resolve, reject) => {
    let readDone = false;
    let lookupResult: LocateResult | undefined;
    void read.then(
      (r) => {
        readDone = true;
        if (r?.outcome === 'found') resolve(r);
        else if (lookupResult) resolve(lookupResult);
      },
      () => {
        readDone = true;
        if (lookupResult) resolve(lookupResult);
      },
    );
    lookup.then((r) => {
      if (r.outcome === 'found' || readDone || signal.aborted) return resolve(r);
      lookupResult = r;
      signal.addEventListener('abort', () => resolve(r), { once: true });
    }, reject);
  });
}
