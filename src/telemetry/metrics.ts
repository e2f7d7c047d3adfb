/**
 * The instruments, created once from an injected Meter (the global one from the SDK in
 * production; a test's own MeterProvider in tests). Methods take domain values, so callers never
 * build attribute maps or pick units.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { DecisionRecord } from '../decide/decision';
import type { BreakerState } from '../locate/breaker';
import type { ContentsOutcome } from '../locate/manifest-contents';
import type { CacheEvictionReason, LocatorObserver, RegionOutcome, SkipReason } from '../locate/observer';
import { systemClock, type Clock } from '../clock/clock';
import { Tally } from './tally';
import { ATTR, LOOKUP_BUCKETS, METRICS, STALENESS_BUCKETS, type MetricSpec } from './names';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Stream and decision metrics, and the locator's (as its LocatorObserver). */
export class GeosyncMetrics implements LocatorObserver {
  private readonly streams: Tally;
  private readonly streamsActive: Tally;
  private readonly messages: Tally;
  private readonly decisions: Tally;
  private readonly lookupDuration: Histogram;
  private readonly cacheLookups: Tally;
  private readonly cacheEvictions: Counter;
  private readonly coalescedWaiters: Counter;
  private readonly shedLookups: Counter;
  private readonly probes: Counter;
  private readonly manifestReads: Counter;
  private readonly probeDuration: Histogram;
  private readonly inflightByRegion = new Map<string, number>();
  private readonly rescued: Tally;
  private readonly tagChecks: Counter;
  private readonly tagRounds: Counter;
  private readonly tagStalenessCorrected: Histogram;
  private readonly breakerStates = new Map<string, number>();

  constructor(
    meter: Meter,
    private readonly clock: Clock = systemClock,
    /** How each sibling is looked up (`regions[].lookup`), a label of its probes. */
    private readonly lookupOf: ReadonlyMap<string, string> = new Map(),
  ) {
    const counter = (s: MetricSpec) =>
      meter.createCounter(s.name, { unit: s.unit, description: s.description });
    const histogram = (s: MetricSpec, buckets: number[]) =>
      meter.createHistogram(s.name, {
        unit: s.unit,
        description: s.description,
        advice: { explicitBucketBoundaries: buckets },
      });
    // Touched by every stream: tallies (tally.ts), not synchronous counters.
    this.streams = new Tally(meter, METRICS.streams);
    this.streamsActive = new Tally(meter, METRICS.streamsActive, 'up_down');
    this.messages = new Tally(meter, METRICS.messages);
    this.decisions = new Tally(meter, METRICS.decisions);
    this.lookupDuration = histogram(METRICS.lookupDuration, LOOKUP_BUCKETS);
    this.cacheLookups = new Tally(meter, METRICS.cacheLookups);
    this.cacheEvictions = counter(METRICS.cacheEvictions);
    this.coalescedWaiters = counter(METRICS.coalesced);
    this.shedLookups = counter(METRICS.shed);
    this.probes = counter(METRICS.probes);
    this.manifestReads = counter(METRICS.manifestContents);
    this.probeDuration = histogram(METRICS.probeDuration, LOOKUP_BUCKETS);
    meter
      .createObservableGauge(METRICS.probesInflight.name, {
        unit: METRICS.probesInflight.unit,
        description: METRICS.probesInflight.description,
      })
      .addCallback((result) => {
        for (const [region, n] of this.inflightByRegion) result.observe(n, { [ATTR.region]: region });
      });
    this.rescued = new Tally(meter, METRICS.rescued);
    this.tagChecks = counter(METRICS.tagFreshness);
    this.tagRounds = counter(METRICS.tagStorageRounds);
    this.tagStalenessCorrected = histogram(METRICS.tagStalenessCorrected, STALENESS_BUCKETS);
    meter
      .createObservableGauge(METRICS.breakerState.name, {
        unit: METRICS.breakerState.unit,
        description: METRICS.breakerState.description,
      })
      .addCallback((result) => {
        for (const [region, value] of this.breakerStates) result.observe(value, { [ATTR.region]: region });
      });
  }

  streamOpened(): void {
    this.streamsActive.add(1);
  }

  streamClosed(how: string): void {
    this.streamsActive.add(-1);
    this.streams.add(1, how, () => ({ [ATTR.how]: how }));
  }

  messageReceived(phase: string): void {
    this.messages.add(1, phase, () => ({ [ATTR.phase]: phase }));
  }

  decided(record: DecisionRecord): void {
    const kind = record.kind ?? 'none';
    this.decisions.add(1, `${record.outcome}\n${kind}`, () => ({
      [ATTR.outcome]: record.outcome,
      [ATTR.kind]: kind,
    }));
    if (record.lookupMs !== undefined) {
      this.lookupDuration.record(record.lookupMs / 1000, { [ATTR.outcome]: record.outcome });
    }
    if (record.outcome === 'proxied' && record.sourceRegion) {
      // How long the content had been waiting for replication: src/staleness/ (time to pullable).
      const source = record.sourceRegion;
      this.rescued.add(1, `${source}\n${kind}`, () => ({ [ATTR.sourceRegion]: source, [ATTR.kind]: kind }));
    }
    if (record.check === 'freshness') this.tagChecked(record);
  }

  tagStorageRound(): void {
    this.tagRounds.add(1);
  }

  private tagChecked(record: DecisionRecord): void {
    const result =
      record.outcome === 'fresher' ? 'newer' : record.outcome === 'pass' ? record.reason : record.outcome;
    this.tagChecks.add(1, { [ATTR.result]: result ?? 'fresh' });
    if (record.outcome === 'fresher' && record.sourceRegion && record.sourceLastModified) {
      const seconds = Math.max(0, (this.clock.now() - record.sourceLastModified.getTime()) / 1000);
      this.tagStalenessCorrected.record(seconds, { [ATTR.sourceRegion]: record.sourceRegion });
    }
  }

  // LocatorObserver

  cacheHit(positive: boolean): void {
    const result = positive ? 'hit' : 'negative_hit';
    this.cacheLookups.add(1, result, () => ({ [ATTR.result]: result }));
  }

  cacheMiss(): void {
    this.cacheLookups.add(1, 'miss', () => ({ [ATTR.result]: 'miss' }));
  }

  cacheEviction(reason: CacheEvictionReason): void {
    this.cacheEvictions.add(1, { [ATTR.reason]: reason });
  }

  coalesced(): void {
    this.coalescedWaiters.add(1);
  }

  lookupShed(): void {
    this.shedLookups.add(1);
  }

  probeFinished(region: string, outcome: RegionOutcome, ms: number): void {
    const lookup = this.lookupOf.get(region) ?? 'storage';
    this.probes.add(1, { [ATTR.region]: region, [ATTR.lookup]: lookup, [ATTR.result]: outcome });
    this.probeDuration.record(ms / 1000, { [ATTR.region]: region, [ATTR.lookup]: lookup });
  }

  manifestContents(region: string, outcome: ContentsOutcome): void {
    this.manifestReads.add(1, { [ATTR.region]: region, [ATTR.result]: outcome });
  }

  regionSkipped(region: string, reason: SkipReason): void {
    this.probes.add(1, { [ATTR.region]: region, [ATTR.result]: `skipped_${reason}` });
  }

  inflight(region: string, n: number): void {
    this.inflightByRegion.set(region, n);
  }

  breakerState(region: string, state: BreakerState): void {
    this.breakerStates.set(region, BREAKER_VALUE[state]);
  }
}
