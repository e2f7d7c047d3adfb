/**
 * Wires the staleness figures of one instance: the ledger and its recorder, the origin finder on
 * the siblings' storage probes, the metrics, the `/staleness` route, and (when enabled) the route
 * the local registry's notifications arrive on.
 */
import type { Meter } from '@opentelemetry/api';
import { ADMIN_PATHS } from '../config/admin-paths';
import type { AdminRoute } from '../admin/server';
import { stalenessRoute } from '../staleness/route';
import type { Clock } from '../clock/clock';
import type { GeosyncConfig } from '../config/types';
import type { RegionProbe } from '../locate/probe-locator';
import type { Logger } from '../log/logger';
import { notificationsEndpoint } from '../notifications/endpoint';
import { SeenEvents } from '../notifications/seen-events';
import { SharedSecret } from '../notifications/shared-secret';
import { StalenessLedger } from '../staleness/ledger';
import { MissedPulls } from '../staleness/missed-pulls';
import { OriginFinder } from '../staleness/origin';
import { StalenessRecorder } from '../staleness/recorder';
import { StalenessMetrics } from '../telemetry/staleness-metrics';

/**
 * How long finding a push's origin may take: it runs after the registry got its answer, so it can
 * wait far longer than a pull's lookup, yet a sibling that never answers must not pin memory.
 */
export const ORIGIN_TIMEOUT_MS = 10_000;

export interface StalenessWiring {
  readonly recorder: StalenessRecorder;
  readonly ledger: StalenessLedger;
  /** GET routes (`/staleness`). */
  readonly routes: ReadonlyMap<string, AdminRoute>;
  /** POST routes (the notifications path, when enabled). */
  readonly postRoutes: ReadonlyMap<string, AdminRoute>;
}

export function buildStaleness(
  config: GeosyncConfig,
  deps: { clock: Clock; log: Logger; meter: Meter; siblings: readonly RegionProbe[] },
): StalenessWiring {
  const { clock, log } = deps;
  const metrics = new StalenessMetrics(deps.meter, config.region);
  const ledger = new StalenessLedger(
    config.region,
    deps.siblings.map((s) => s.region),
    clock,
    config.staleness,
  );
  const recorder = new StalenessRecorder({
    ledger,
    origins: new OriginFinder(deps.siblings, ORIGIN_TIMEOUT_MS, clock),
    missed: new MissedPulls(clock, config.staleness),
    clock,
    log,
    observer: metrics,
  });
  const postRoutes = new Map<string, AdminRoute>();
  const n = config.notifications;
  if (n.enabled && n.authHeaderValue) {
    postRoutes.set(
      n.path,
      notificationsEndpoint({
        secret: new SharedSecret(n.authHeaderName, n.authHeaderValue),
        seen: new SeenEvents(clock),
        log,
        onEvents: (events) => recorder.events(events),
        onRequest: (result, duplicates) => metrics.notificationRequest(result, duplicates),
      }),
    );
  }
  return {
    recorder,
    ledger,
    routes: new Map([[ADMIN_PATHS.staleness, stalenessRoute(() => ledger.report())]]),
    postRoutes,
  };
}
