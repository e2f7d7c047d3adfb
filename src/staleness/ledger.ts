/**
 * The staleness figures of one region over a sliding window: per sibling region, replication lag
 * samples, time-to-pullable samples, rescued and missed pull counts; and this region's origin
 * pushes. Memory is bounded by `maxSamples` per series and per key set, whatever the traffic.
 */
import type { Clock } from '../clock/clock';
import { TtlLruCache } from '../util/ttl-lru-cache';
import { rescueFraction, type StalenessReport } from './report';
import { SampleWindow, type WindowBounds } from './sample-window';
import { summarize } from './summary';

interface PairSeries {
  readonly lag: SampleWindow;
  readonly pullable: SampleWindow;
  readonly rescued: SampleWindow;
  readonly missed: SampleWindow;
}

export class StalenessLedger {
  private readonly pairs = new Map<string, PairSeries>();
  private readonly originPushes: SampleWindow;
  /** Manifests (per source) whose first rescued pull in the window has been counted. */
  private readonly firstRescues: TtlLruCache<true>;

  constructor(
    private readonly region: string,
    siblings: readonly string[],
    private readonly clock: Clock,
    private readonly bounds: WindowBounds,
  ) {
    const w = () => new SampleWindow(clock, bounds);
    for (const s of siblings) this.pairs.set(s, { lag: w(), pullable: w(), rescued: w(), missed: w() });
    this.originPushes = w();
    this.firstRescues = TtlLruCache.byCount<true>(bounds.maxSamples, clock);
  }

  arrival(source: string, lagSeconds: number): void {
    this.pairs.get(source)?.lag.add(lagSeconds);
  }

  originPush(): void {
    this.originPushes.add(1);
  }

  /**
   * A manifest GET of `key` served by `source`. Returns true when it is the first one for that
   * manifest in the window, the one that dates when it became pullable here (then recorded;
   * `pullableSeconds` is undefined when the storage gave no LastModified).
   */
  rescued(source: string, key: string, pullableSeconds: number | undefined): boolean {
    const pair = this.pairs.get(source);
    if (!pair) return false;
    pair.rescued.add(1);
    const seenKey = `${source}\n${key}`;
    if (pullableSeconds === undefined || this.firstRescues.get(seenKey)) return false;
    this.firstRescues.set(seenKey, true, this.bounds.windowMs);
    pair.pullable.add(pullableSeconds);
    return true;
  }

  missed(source: string, count: number): void {
    const pair = this.pairs.get(source);
    for (let i = 0; i < count; i++) pair?.missed.add(1);
  }

  report(): StalenessReport {
    return {
      region: this.region,
      windowSeconds: this.bounds.windowMs / 1000,
      generatedAt: new Date(this.clock.now()).toISOString(),
      originPushes: this.originPushes.count,
      pairs: [...this.pairs].map(([source, p]) => {
        const rescued = p.rescued.count;
        const missed = p.missed.count;
        return {
          sourceRegion: source,
          region: this.region,
          replicationLag: summarize(p.lag.current()),
          timeToPullable: summarize(p.pullable.current()),
          pulls: { rescued, missed, rescueFraction: rescueFraction(rescued, missed) },
        };
      }),
    };
  }
}
