/** Builds the Locator that `geosync serve` uses from the validated configuration. */
import type { Clock } from '../clock/clock';
import { systemClock } from '../clock/clock';
import type { GeosyncConfig } from '../config/types';
import { HEADER } from '../extproc/headers';
import { RegistryHealth } from '../locate/health';
import type { Locator } from '../locate/locator';
import type { LocatorObserver } from '../locate/observer';
import { ProbeLocator, type ProbeLocatorDeps, type RegionProbe } from '../locate/probe-locator';
import { probeFor } from '../storage/factory';
import type { ObjectProbe } from '../storage/probe';

export interface LocatorDeps {
  readonly clock?: Clock;
  /** Telemetry's subscriber to the locator's work (src/telemetry/metrics.ts). */
  readonly observer?: LocatorObserver;
  /** Decorates each region's probe (tracing, test instrumentation). */
  readonly wrapProbe?: (probe: ObjectProbe) => ObjectProbe;
  /** Probes already built by siblingProbes (shared with other readers of sibling storage). */
  readonly siblings?: readonly RegionProbe[];
  /** Each manifest found in a sibling's storage, for the other workers (src/workers/). */
  readonly onManifestFound?: ProbeLocatorDeps['onManifestFound'];
}

/** How much earlier than `lookupTimeoutMs` the shared lookup settles on its best answer. */
export const SHARED_DEADLINE_MARGIN_MS = 10;

/** Sibling regions' configurations in preference order (never this region). */
function siblingConfigsOf(config: GeosyncConfig) {
  const byName = new Map(config.regions.map((r) => [r.name, r]));
  return config.preference
    .filter((name) => name !== config.region)
    .map((name) => {
      const region = byName.get(name);
      if (!region) throw new Error(`preference names unknown region ${name}`);
      return region;
    });
}

/** One probe per sibling region's storage, in preference order. */
export function siblingProbes(
  config: GeosyncConfig,
  wrap: (probe: ObjectProbe) => ObjectProbe = (p) => p,
): RegionProbe[] {
  // A lookup through a sibling's Envoy is a question about that region alone (HEADER.forwardedBy).
  const headers = { [HEADER.forwardedBy]: config.region };
  return siblingConfigsOf(config).map((region) => ({
    region: region.name,
    probe: wrap(probeFor(region, headers)),
  }));
}

/** The locator closes the probes it is given (src/locate/region.ts). */
export function buildLocator(config: GeosyncConfig, deps: LocatorDeps = {}): Locator {
  const clock = deps.clock ?? systemClock;
  const siblingConfigs = siblingConfigsOf(config);
  const siblings = deps.siblings ?? siblingProbes(config, deps.wrapProbe);

  const { healthCheck, ...locate } = config.locate;
  let health: RegistryHealth | undefined;
  if (healthCheck.enabled) {
    health = new RegistryHealth(siblingConfigs, healthCheck, clock, undefined, (region, up) =>
      deps.observer?.regionHealth?.(region, up),
    );
    health.start();
  }
  return new ProbeLocator(
    siblings,
    // The shared lookup ends a little before each waiter's own deadline (src/extproc/stream.ts), so
    // a holder found late in the hedge window is still handed to the waiter instead of a timeout.
    {
      ...locate,
      perCredential: config.regions.some(
        (r) => r.lookup === 'registry' && r.registry.credentials === 'client',
      ),
      lookupTimeoutMs: Math.max(1, config.lookupTimeoutMs - SHARED_DEADLINE_MARGIN_MS),
      lookupTimeoutMaxMs: Math.max(1, config.lookupTimeoutMaxMs - SHARED_DEADLINE_MARGIN_MS),
    },
    {
      clock,
      ...(deps.observer ? { observer: deps.observer } : {}),
      ...(health ? { health } : {}),
      ...(deps.onManifestFound ? { onManifestFound: deps.onManifestFound } : {}),
    },
  );
}
