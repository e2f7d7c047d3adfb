/**
 * Feeds the staleness ledger from the two things geosync sees: its own decisions on local 404s of
 * manifest GETs (rescued, or failed), and the local registry's notifications (manifest pushes,
 * each resolved to an arrival from the earliest sibling that held it, or an origin push).
 * Notifications are worked on after the registry got its answer, at most `maxInFlight` at once:
 * beyond that they are dropped and counted, never queued without bound.
 */
import type { Clock } from '../clock/clock';
import type { DecisionRecord } from '../decide/decision';
import type { Logger } from '../log/logger';
import type { RegistryEvent } from '../notifications/envelope';
import { manifestPush, type ManifestPush } from '../notifications/manifest-push';
import type { PullTarget } from '../oci/pull';
import type { StalenessLedger } from './ledger';
import type { MissedPulls } from './missed-pulls';
import type { OriginFinder } from './origin';
import { digestKey, manifestPullKey, tagKey } from './pull-key';

/** What became of one notification event. */
export type EventResult = 'arrival' | 'origin' | 'unknown' | 'ignored' | 'dropped';

export interface StalenessObserver {
  arrival?(sourceRegion: string, lagSeconds: number): void;
  originPush?(): void;
  timeToPullable?(sourceRegion: string, seconds: number): void;
  unreplicatedPulls?(sourceRegion: string, result: 'rescued' | 'missed', count: number): void;
  event?(result: EventResult): void;
}

export interface StalenessRecorderDeps {
  readonly ledger: StalenessLedger;
  readonly origins: OriginFinder;
  readonly missed: MissedPulls;
  readonly clock: Clock;
  readonly log: Logger;
  readonly observer?: StalenessObserver;
  readonly maxInFlight?: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 64;

export class StalenessRecorder {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly maxInFlight: number;

  constructor(private readonly deps: StalenessRecorderDeps) {
    this.maxInFlight = deps.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  /** One decided request. Only manifest GETs count as pulls (HEADs check, blobs follow). */
  pullDecided(record: DecisionRecord, method: string | undefined, target: PullTarget | undefined): void {
    // A tag-freshness check is about a local 200, not about content that has not arrived.
    if (method !== 'GET' || !target || record.check === 'freshness') return;
    const key = manifestPullKey(target);
    if (key === undefined) return;
    switch (record.outcome) {
      case 'proxied': {
        if (!record.sourceRegion) return;
        const lastModified = record.sourceLastModified?.getTime();
        // S3 without a LastModified header is reported as the epoch: no date, no sample.
        const seconds = lastModified ? Math.max(0, (this.deps.clock.now() - lastModified) / 1000) : undefined;
        const first = this.deps.ledger.rescued(record.sourceRegion, key, seconds);
        this.call('unreplicatedPulls', record.sourceRegion, 'rescued', 1);
        if (first && seconds !== undefined) this.call('timeToPullable', record.sourceRegion, seconds);
        return;
      }
      case 'not_found':
      case 'timeout':
      case 'error':
        this.deps.missed.failed(key);
        return;
      default:
        return;
    }
  }

  /** Events the registry sent for the first time. */
  events(events: readonly RegistryEvent[]): void {
    for (const event of events) {
      const push = manifestPush(event);
      if (!push) {
        this.call('event', 'ignored');
        continue;
      }
      if (this.inFlight.size >= this.maxInFlight || this.closing.signal.aborted) {
        this.call('event', 'dropped');
        continue;
      }
      const work = this.resolve(push)
        .catch((err: unknown) => this.deps.log.error({ err }, 'manifest push: not recorded'))
        .finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  /** Resolves once every event handed in so far has been worked out (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.settled();
  }

  private async resolve(push: ManifestPush): Promise<void> {
    const origin = await this.deps.origins.find(push.repository, push.digest, push.at, this.closing.signal);
    const keys = [
      digestKey(push.repository, push.digest),
      ...(push.tag ? [tagKey(push.repository, push.tag)] : []),
    ];
    switch (origin.kind) {
      case 'arrival': {
        const lag = (push.at - origin.originAt) / 1000;
        this.deps.ledger.arrival(origin.sourceRegion, lag);
        this.call('arrival', origin.sourceRegion, lag);
        this.call('event', 'arrival');
        const missed = this.deps.missed.arrived(keys, origin.originAt);
        if (missed > 0) {
          this.deps.ledger.missed(origin.sourceRegion, missed);
          this.call('unreplicatedPulls', origin.sourceRegion, 'missed', missed);
        }
        this.deps.log.debug(
          { sourceRegion: origin.sourceRegion, lagSeconds: lag, missed },
          'replication arrival',
        );
        return;
      }
      case 'origin':
        // Content that starts here: earlier failed pulls of it asked too early, not too late.
        this.deps.missed.arrived(keys, Number.POSITIVE_INFINITY);
        this.deps.ledger.originPush();
        this.call('originPush');
        this.call('event', 'origin');
        return;
      case 'unknown':
        this.call('event', 'unknown');
        this.deps.log.warn(
          { reason: origin.reason },
          'manifest push: origin unknown (a sibling storage did not answer)',
        );
        return;
    }
  }

  /** Observers are telemetry: a throwing one never breaks the figures. */
  private call<K extends keyof StalenessObserver>(
    name: K,
    ...args: Parameters<NonNullable<StalenessObserver[K]>>
  ): void {
    const fn = this.deps.observer?.[name] as ((...a: typeof args) => void) | undefined;
    try {
      fn?.apply(this.deps.observer, args);
    } catch {
      // Losing a data point is better than losing the event.
    }
  }
}
