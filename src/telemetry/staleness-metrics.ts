/**
 * The staleness figures as metrics, per region pair (source region → this region): replication
 * lag and time to pullable histograms, arrivals, origin pushes and pulls of not-yet-replicated
 * content; and the notification deliveries they come from. The report (`/staleness`) windows the
 * same observations; these are cumulative.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { NotificationResult } from '../notifications/endpoint';
import type { EventResult, StalenessObserver } from '../staleness/recorder';
import { ATTR, METRICS, STALENESS_BUCKETS, type MetricSpec } from './names';

export class StalenessMetrics implements StalenessObserver {
  private readonly lag: Histogram;
  private readonly pullable: Histogram;
  private readonly arrivals: Counter;
  private readonly origins: Counter;
  private readonly unreplicated: Counter;
  private readonly requests: Counter;
  private readonly events: Counter;

  constructor(
    meter: Meter,
    /** This region: the second label of every pair. */
    private readonly region: string,
  ) {
    const counter = (s: MetricSpec) =>
      meter.createCounter(s.name, { unit: s.unit, description: s.description });
    const histogram = (s: MetricSpec) =>
      meter.createHistogram(s.name, {
        unit: s.unit,
        description: s.description,
        advice: { explicitBucketBoundaries: STALENESS_BUCKETS },
      });
    this.lag = histogram(METRICS.replicationLag);
    this.pullable = histogram(METRICS.timeToPullable);
    this.arrivals = counter(METRICS.arrivals);
    this.origins = counter(METRICS.originPushes);
    this.unreplicated = counter(METRICS.unreplicatedPulls);
    this.requests = counter(METRICS.notificationRequests);
    this.events = counter(METRICS.notificationEvents);
  }

  private pair(source: string) {
    return { [ATTR.sourceRegion]: source, [ATTR.region]: this.region };
  }

  arrival(sourceRegion: string, lagSeconds: number): void {
    this.lag.record(lagSeconds, this.pair(sourceRegion));
    this.arrivals.add(1, this.pair(sourceRegion));
  }

  originPush(): void {
    this.origins.add(1, { [ATTR.region]: this.region });
  }

  timeToPullable(sourceRegion: string, seconds: number): void {
    this.pullable.record(seconds, this.pair(sourceRegion));
  }

  unreplicatedPulls(sourceRegion: string, result: 'rescued' | 'missed', count: number): void {
    this.unreplicated.add(count, { ...this.pair(sourceRegion), [ATTR.result]: result });
  }

  event(result: EventResult): void {
    this.events.add(1, { [ATTR.result]: result });
  }

  /** One delivery from the registry (src/notifications/endpoint.ts). */
  notificationRequest(result: NotificationResult, duplicates: number): void {
    this.requests.add(1, { [ATTR.result]: result });
    if (duplicates > 0) this.events.add(duplicates, { [ATTR.result]: 'duplicate' });
  }
}
