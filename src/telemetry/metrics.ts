/**
 * The instruments, created once from an injected Meter (the global one from the SDK in
 * production; a test's own MeterProvider in tests). Methods take domain values, so callers never
 * build attribute maps or pick units.
 */
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import type { DecisionRecord } from '../decide/decision';
import type { BreakerState } from '../locate/breaker';
import type { ContentsOutcome } from '../locate/manifest-contents';
import type { CacheEvictionReason, LocatorObserver, RegionOutcome, SkipReason } from '../locate/observer';
import { systemClock, type Clock } from '../clock/clock';
import { ATTR, LOOKUP_BUCKETS, METRICS, STALENESS_BUCKETS, type MetricSpec } from './names';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Stream and decision metrics, and the locator's (as its LocatorObserver). */
export class GeosyncMetrics implements LocatorObserver {
  private readonly streams: Counter;
  private readonly streamsActive: UpDownCounter;
  private readonly messages: Counter;
  private readonly decisions: Counter;
  private readonly lookupDuration: Histogram;
  private readonly cacheLookups: Counter;
  private readonly cacheEvictions: Counter;
  private readonly coalescedWaiters: Counter;
  private readonly shedLookups: Counter;
  private readonly probes: Counter;
  private readonly manifestReads: Counter;
  private readonly probeDuration: Histogram;
  private readonly inflightByRegion = new Map<string, number>();
  private readonly rescued: Counter;
  private readonly tagChecks: Counter;
  private readonly tagRounds: Counter;
  private readonly tagStalenessCorrected: Histogram;
  private readonly breakerStates = new Map<string, number>();

  constructor(
    meter: Meter,
    private readonly clock: Clock = systemClock,
  ) {
    const counter = (s: MetricSpec) =>
      meter.createCounter(s.name, { unit: s.unit, description: s.description });
    const updown = (s: MetricSpec) =>
      meter.createUpDownCounter(s.name, { unit: s.unit, description: s.description });
    const histogram = (s: MetricSpec, buckets: number[]) =>
      meter.createHistogram(s.name, {
        unit: s.unit,
        description: s.description,
        advice: { explicitBucketBoundaries: buckets },
      });
    this.streams = counter(METRICS.streams);
    this.streamsActive = updown(METRICS.streamsActive);
    this.messages = counter(METRICS.messages);
    this.decisions = counter(METRICS.decisions);
    this.lookupDuration = histogram(METRICS.lookupDuration, LOOKUP_BUCKETS);
    this.cacheLookups = counter(METRICS.cacheLookups);
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
    this.rescued = counter(METRICS.rescued);
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
    this.streams.add(1, { [ATTR.how]: how });
  }

  messageReceived(phase: string): void {
    this.messages.add(1, { [ATTR.phase]: phase });
  }

  decided(record: DecisionRecord): void {
    const attrs: Attributes = { [ATTR.outcome]: record.outcome, [ATTR.kind]: record.kind ?? 'none' };
    this.decisions.add(1, attrs);
    if (record.lookupMs !== undefined) {
      this.lookupDuration.record(record.lookupMs / 1000, { [ATTR.outcome]: record.outcome });
    }
    if (record.outcome === 'proxied' && record.sourceRegion) {
      // How long the content had been waiting for replication: src/staleness/ (time to pullable).
      this.rescued.add(1, { [ATTR.sourceRegion]: record.sourceRegion, [ATTR.kind]: record.kind ?? 'none' });
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
    this.cacheLookups.add(1, { [ATTR.result]: positive ? 'hit' : 'negative_hit' });
  }

  cacheMiss(): void {
    this.cacheLookups.add(1, { [ATTR.result]: 'miss' });
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
    this.probes.add(1, { [ATTR.region]: region, [ATTR.result]: outcome });
    this.probeDuration.record(ms / 1000, { [ATTR.region]: region });
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
