/**
 * One geosync instance: what runs once whatever the number of engines answering Envoy. The admin
 * port (`/healthz`, `/readyz`, `/metrics`, `/staleness`), the staleness figures and the route the
 * local registry's notifications arrive on, readiness, and the end of its life: drain, stop, exit.
 * Its engines (engine.ts) run through a host (host.ts), in this process or as workers, the same
 * way: `/readyz` is ready while at least one engine serves and the instance is not draining, and
 * every pull an engine decides reaches the staleness figures here.
 *
 * On the stop signal: health NOT_SERVING and `/readyz` 503 at once (so Envoy and Kubernetes stop
 * sending new work), open streams answered for `drainMs`, then every engine closes (open streams
 * get STOP_GRACE_MS), the admin port and the staleness figures close, and the instance says
 * `stopped` once its engines have (with a warning when filesystem calls hang in a dead mount).
 */
import { metrics as otelMetrics, type Meter } from '@opentelemetry/api';
import { startAdminServer, type AdminRoute, type AdminServer } from '../admin/server';
import { systemClock, type Clock } from '../clock/clock';
import { ADMIN_PATHS } from '../config/admin-paths';
import { formatListen, type GeosyncConfig, type ListenAddress } from '../config/types';
import type { Logger } from '../log/logger';
import { METER_NAME } from '../telemetry/names';
import type { EngineHost } from './host';
import { siblingProbes } from './locator-factory';
import { buildStaleness } from './staleness-factory';

/** After `drainMs`, how long the streams still open may take before the engines close. */
export const STOP_GRACE_MS = 1000;

export const DEAD_MOUNT_WARNING =
  "filesystem calls to a sibling's storage still hang (a dead mount?): the process ends once they return; abort them to end it now: umount -f on the mount (fusermount -u and umount -l leave them blocked; see docs/operations.md, section A sibling on a filesystem that hangs)";

export interface InstanceDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** Defaults to the global OpenTelemetry meter (set up by src/telemetry/sdk.ts in `serve`). */
  readonly meter?: Meter;
  readonly host: EngineHost;
}

export interface Instance {
  /** The admin port's address, with the real port when configured as 0. */
  readonly adminAddress: string;
  /** Why the engines could not start after all (see EngineHost.failed); otherwise pending. */
  readonly failed: Promise<string>;
  /** `/readyz` 503 and every engine NOT_SERVING at once; streams are still answered. */
  startDraining(): void;
  /**
   * Closes the engines (open streams get `graceMs`), then the admin port and the staleness
   * figures. Resolves with the filesystem calls still hanging in a dead mount.
   */
  close(graceMs?: number): Promise<number>;
}

export type InstanceEnd = { readonly kind: 'stopped' } | { readonly kind: 'failed'; readonly reason: string };

/** Resolves once the admin port listens and the host has started its engines. */
export async function startInstance(config: GeosyncConfig, deps: InstanceDeps): Promise<Instance> {
  const { log, host } = deps;
  const clock = deps.clock ?? systemClock;
  const meter = deps.meter ?? otelMetrics.getMeter(METER_NAME);
  if (isWildcard(config.listen.grpc)) {
    // The ext_proc port has no authentication: whoever reaches it can ask where content is and
    // make geosync probe storage. Envoy beside it needs loopback (or a unix socket) only.
    log.warn(
      { grpc: formatListen(config.listen.grpc) },
      'listen.grpc accepts connections on every interface, and the ext_proc port is unauthenticated: bind it to loopback or a unix socket unless a network policy keeps others out',
    );
  }
  // The instance's own probes, for finding where a pushed manifest came from: the engines'
  // probes may live in other processes.
  const siblings = siblingProbes(config);
  const staleness = buildStaleness(config, { clock, log, meter, siblings });
  const closeStaleness = async () => {
    // No notification arrives any more: abort the origin lookups still under way.
    await staleness.recorder.close();
    await Promise.all(siblings.map((s) => s.probe.close()));
  };
  let draining = false;
  const routes = new Map<string, AdminRoute>(staleness.routes);
  if (host.metrics) routes.set(ADMIN_PATHS.metrics, host.metrics);
  let admin: AdminServer;
  try {
    admin = await startAdminServer(
      config.listen.admin,
      () => !draining && host.ready(),
      routes,
      staleness.postRoutes,
    );
  } catch (err) {
    await closeStaleness();
    throw err;
  }
  try {
    await host.start((record, method, target) => staleness.recorder.pullDecided(record, method, target));
  } catch (err) {
    await admin.close();
    await closeStaleness();
    throw err;
  }
  log.info(
    {
      admin: admin.address,
      grpc: formatListen(config.listen.grpc),
      notifications: config.notifications.enabled ? config.notifications.path : 'off',
    },
    'geosync instance started',
  );
  const startDraining = () => {
    if (draining) return;
    draining = true;
    host.drain();
  };
  return {
    adminAddress: admin.address,
    failed: host.failed,
    startDraining,
    async close(graceMs = STOP_GRACE_MS) {
      startDraining();
      const hanging = await host.stop(graceMs);
      await admin.close();
      await closeStaleness();
      return hanging;
    },
  };
}

/**
 * `geosync serve`'s life: start, serve until `terminated` (a stop signal) or until the engines
 * turn out unable to start, drain, stop. Resolves once the engines' processes have ended.
 */
export async function runInstance(
  config: GeosyncConfig,
  deps: InstanceDeps & { readonly terminated: Promise<string> },
): Promise<InstanceEnd> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  let instance: Instance;
  try {
    instance = await startInstance(config, deps);
  } catch (err) {
    log.fatal({ err }, 'geosync failed to start');
    return { kind: 'failed', reason: (err as Error).message };
  }
  const outcome = await Promise.race([
    deps.terminated.then((signal) => ({ signal }) as const),
    instance.failed.then((reason) => ({ failed: reason }) as const),
  ]);
  if ('failed' in outcome) {
    log.fatal({ reason: outcome.failed }, 'geosync failed to start');
    await instance.close(0);
    return { kind: 'failed', reason: outcome.failed };
  }
  log.info({ signal: outcome.signal, drainMs: config.drainMs }, 'stopping: draining');
  instance.startDraining();
  await new Promise<void>((resolve) => clock.setTimer(resolve, config.drainMs));
  const hanging = await instance.close(STOP_GRACE_MS);
  if (hanging > 0) log.warn({ calls: hanging }, DEAD_MOUNT_WARNING);
  log.info('stopped');
  // As one process would: the instance ends when its engines have (one blocked in the kernel on
  // a dead mount ends when the mount is aborted; even SIGKILL waits for that).
  await deps.host.exited();
  return { kind: 'stopped' };
}

function isWildcard(address: ListenAddress): boolean {
  return address.kind === 'tcp' && (address.host === '0.0.0.0' || address.host === '::');
}
