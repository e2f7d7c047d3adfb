/**
 * What the locator reports about its own work, for telemetry to subscribe to without the locator
 * knowing about OpenTelemetry. Every callback is optional; a callback that throws is ignored, so a
 * broken metric can never fail a lookup.
 */
import type { ProbeErrorKind } from '../storage/probe';
import type { BreakerState } from './breaker';
import type { ContentsOutcome } from './manifest-contents';
import type { CacheEvictionReason } from '../util/ttl-lru-cache';

/** One region's answer to one lookup (all keys of the target). */
export type RegionOutcome = 'found' | 'not_found' | ProbeErrorKind;

/** Why a region was not asked. */
export type SkipReason = 'breaker_open' | 'unhealthy' | 'overflow';

export type { CacheEvictionReason };

export interface LocatorObserver {
  probeFinished?(region: string, outcome: RegionOutcome, ms: number): void;
  regionSkipped?(region: string, reason: SkipReason): void;
  cacheHit?(positive: boolean): void;
  cacheMiss?(): void;
  cacheEviction?(reason: CacheEvictionReason): void;
  /** A lookup joined one already in flight for the same regions and key. */
  coalesced?(): void;
  /** A lookup was not started: more were running than finish within the deadline. */
  lookupShed?(): void;
  breakerState?(region: string, state: BreakerState): void;
  /** HEAD requests in flight towards `region` after a change. */
  inflight?(region: string, n: number): void;
  regionHealth?(region: string, up: boolean): void;
  /** A manifest found in `region` was read for the targets it names (manifest-contents.ts). */
  manifestContents?(region: string, outcome: ContentsOutcome): void;
}

type Callbacks = Required<LocatorObserver>;

/** Every callback present, none able to throw into the caller. */
export function guardObserver(observer: LocatorObserver | undefined): Callbacks {
  const call =
    <K extends keyof LocatorObserver>(name: K) =>
    (...args: Parameters<Callbacks[K]>): void => {
      const fn = observer?.[name] as ((...a: Parameters<Callbacks[K]>) => void) | undefined;
      if (!fn) return;
      try {
        fn.apply(observer, args);
      } catch {
        // Observers are telemetry: losing a data point is better than failing a lookup.
      }
    };
  return {
    probeFinished: call('probeFinished'),
    regionSkipped: call('regionSkipped'),
    cacheHit: call('cacheHit'),
    cacheMiss: call('cacheMiss'),
    cacheEviction: call('cacheEviction'),
    coalesced: call('coalesced'),
    lookupShed: call('lookupShed'),
    breakerState: call('breakerState'),
    inflight: call('inflight'),
    regionHealth: call('regionHealth'),
    manifestContents: call('manifestContents'),
  };
}
