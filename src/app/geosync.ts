/**
 * Wires one geosync instance: the ext_proc gRPC server with grpc.health.v1 on the same port, the
 * admin HTTP server, and the locator. Returned as a handle, so tests start it in-process on port 0
 * and the CLI drives its lifecycle (serve, drain on SIGTERM, exit).
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { startAdminServer, type AdminRoute, type AdminServer } from '../admin/server';
import { systemClock, type Clock } from '../clock/clock';
import { formatListen, type GeosyncConfig, type ListenAddress } from '../config/types';
import type { DecisionRecord } from '../decide/decision';
import { addExtProcService, type StreamHooks } from '../extproc/server';
import type { RequestMeta } from '../extproc/stream';
import type { FoundManifest, Locator, StorageProblem } from '../locate/locator';
import type { PullTarget } from '../oci/pull';
import type { LearntVerdict } from '../tag-freshness/check';
import type { Logger } from '../log/logger';
import { metrics as otelMetrics, type Meter, type Tracer } from '@opentelemetry/api';
import { decisionLogger } from '../telemetry/decision-log';
import { GeosyncMetrics } from '../telemetry/metrics';
import { METER_NAME } from '../telemetry/names';
import type { ObjectProbe } from '../storage/probe';
import { TracedProbe } from '../telemetry/probe';
import { StreamTracing } from '../telemetry/tracing';
import { buildFreshness } from './tag-freshness-factory';
import { buildLocator, siblingProbes } from './locator-factory';
import { buildStaleness } from './staleness-factory';
import { buildTagLists } from './tag-list-factory';
import { STORAGE_CHECK_DEADLINE_MS, WARM_UP_BUDGET_MS, withinDeadline } from './warm-up';

/** gRPC health service names: '' (the server) and the ext_proc service Envoy health-checks. */
export const HEALTH_SERVICES = ['', 'envoy.service.ext_proc.v3.ExternalProcessor'];

export interface GeosyncDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** Defaults to the locator built from the configuration. */
  readonly locator?: Locator;
  /** Also called for every decision (tests); metrics and the decision log are always on. */
  readonly onDecision?: (record: DecisionRecord, meta: RequestMeta) => void;
  /** Defaults to the global OpenTelemetry providers (set up by src/telemetry/sdk.ts in `serve`). */
  readonly meter?: Meter;
  /**
   * Absent: no spans at all (serve passes one only when traces are exported: a span nobody
   * exports is per-stream work for nothing).
   */
  readonly tracer?: Tracer;
  readonly adminRoutes?: ReadonlyMap<string, AdminRoute>;
  /**
   * Run as one worker of `geosync serve` (src/workers/): no admin port and no staleness figures
   * here (the supervisor has both); each pull decided goes to `pullDecided` instead.
   */
  readonly worker?: {
    pullDecided(record: DecisionRecord, method: string, target: PullTarget): void;
    /** A tag-freshness verdict this worker learnt from storage, for the others to adopt. */
    learnt(verdict: LearntVerdict): void;
    /** Whether this worker runs the start-up storage check (one worker does, not each). */
    readonly checksStorage: boolean;
    /** A manifest this worker found in a sibling's storage, for the others to adopt. */
    manifestFound(target: Exclude<PullTarget, { kind: 'blob' }>, found: FoundManifest): void;
  };
}

export interface Geosync {
  /** Bound gRPC address (`host:port` or `unix:PATH`), with the real port when configured as 0. */
  readonly grpcAddress: string;
  /** '' for a worker (the supervisor has the admin port). */
  readonly adminAddress: string;
  /** NOT_SERVING and not ready at once; open and new streams are still answered. */
  startDraining(): void;
  /** Another worker's tag-freshness verdict (nothing when tag freshness is off). */
  adopt(verdict: LearntVerdict): void;
  /** A manifest another worker found in a sibling's storage (Locator.adoptFound). */
  adoptFound(target: Exclude<PullTarget, { kind: 'blob' }>, found: FoundManifest): void;
  readonly draining: boolean;
  /** Stops accepting streams, waits up to `graceMs` for open ones, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

export async function startGeosync(config: GeosyncConfig, deps: GeosyncDeps): Promise<Geosync> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log;
  const meter = deps.meter ?? otelMetrics.getMeter(METER_NAME);
  const tracer = deps.tracer;
  const metrics = new GeosyncMetrics(meter, clock);
  const traced = (p: ObjectProbe): ObjectProbe => (tracer ? new TracedProbe(p, tracer) : p);
  const siblings = siblingProbes(config, traced);
  const locator =
    deps.locator ??
    buildLocator(config, {
      clock,
      observer: metrics,
      siblings,
      ...(deps.worker ? { onManifestFound: deps.worker.manifestFound } : {}),
    });
  // The locator closes the probes it uses; an injected locator leaves them to this function.
  const fresh = buildFreshness(config, {
    clock,
    siblings,
    wrap: traced,
    onStorageRound: () => metrics.tagStorageRound(),
    ...(deps.worker ? { onLearnt: deps.worker.learnt } : {}),
  });
  const regionUrls = new Map(
    config.regions.filter((r) => r.name !== config.region).map((r) => [r.name, r.url]),
  );
  const tagLists = buildTagLists(config, clock, siblings, regionUrls);
  const closeProbes = async () => {
    await fresh.close();
    if (deps.locator) await Promise.all(siblings.map((s) => s.probe.close()));
  };
  const staleness = deps.worker ? undefined : buildStaleness(config, { clock, log, meter, siblings });
  const pullDecided = (
    record: DecisionRecord,
    method: string | undefined,
    target: PullTarget | undefined,
  ) => {
    if (!deps.worker) return staleness?.recorder.pullDecided(record, method, target);
    // Only what the staleness figures use crosses the IPC channel (StalenessRecorder.pullDecided).
    if (method === 'GET' && target && target.kind !== 'blob') deps.worker.pullDecided(record, method, target);
  };
  const tracing = tracer
    ? new StreamTracing(tracer, { traceRepositoryNames: config.telemetry.traceRepositoryNames })
    : undefined;
  const logDecision = decisionLogger(log, { traceRepositoryNames: config.telemetry.traceRepositoryNames });
  const streamHooks: StreamHooks = {
    streamOpened: () => metrics.streamOpened(),
    streamClosed: (how) => metrics.streamClosed(how),
    messageReceived: (phase) => metrics.messageReceived(phase),
  };

  const server = new grpc.Server({
    // Envoy keeps one HTTP/2 connection with many streams; let it.
    'grpc.max_concurrent_streams': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  addExtProcService(
    server,
    {
      locator,
      clock,
      lookupTimeoutMs: config.lookupTimeoutMs,
      // The locator waits for each sibling within its own learnt deadline (src/locate/latency.ts);
      // a pull's bound is the longest of them.
      locateTimeoutMs: config.lookupTimeoutMaxMs,
      pullPolicy: {
        proxyManifestHeadByDigest: config.proxyManifestHeadByDigest,
        pushCheckUserAgents: config.pushCheckUserAgents,
        pushCheckBasicUsers: config.pushCheckBasicUsers,
      },
      regionUrls,
      onDecision: (record, meta) => {
        metrics.decided(record);
        pullDecided(record, meta.method, meta.target?.eligible ? meta.target.target : undefined);
        logDecision(record, meta);
        deps.onDecision?.(record, meta);
      },
      ...(tracing ? { newStreamTrace: () => tracing.forStream() } : {}),
      ...(fresh.freshness ? { freshness: fresh.freshness } : {}),
      ...(tagLists ? { tagLists } : {}),
    },
    log,
    streamHooks,
  );
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING'])));
  health.addToServer(server);

  let grpcAddress: string;
  try {
    grpcAddress = await bind(server, config.listen.grpc);
  } catch (err) {
    // The locator already runs timers (health checks) and holds sockets: release them.
    await locator.close();
    await closeProbes();
    throw err;
  }
  let draining = false;
  let ready = false;
  let admin: AdminServer | undefined;
  try {
    if (staleness)
      admin = await startAdminServer(
        config.listen.admin,
        () => ready && !draining,
        new Map([...staleness.routes, ...(deps.adminRoutes ?? [])]),
        staleness.postRoutes,
      );
  } catch (err) {
    server.forceShutdown();
    await locator.close();
    await closeProbes();
    throw err;
  }
  // Open the connections to every sibling's storage before reporting ready, so the first pull
  // does not spend its lookup deadline on a handshake. Bounded: a region that is down must not
  // keep this one from serving (its lookups fail open like any other).
  const warmed = await withinDeadline(locator.warm?.bind(locator), clock, WARM_UP_BUDGET_MS);
  // Logged, not fatal: the rest of the configuration may be right, and lookups fail open.
  logProblems(log, warmed.problems);
  if (!warmed.finished)
    log.warn(
      { budgetMs: WARM_UP_BUDGET_MS },
      'storage warm-up did not finish within its budget; serving anyway',
    );
  for (const s of HEALTH_SERVICES) health.setStatus(s, 'SERVING');
  ready = true;
  log.info(
    {
      grpc: grpcAddress,
      admin: admin?.address ?? '(supervisor)',
      siblings: [...regionUrls.keys()],
      notifications: config.notifications.enabled ? config.notifications.path : 'off',
    },
    'geosync serving',
  );
  const stopChecking = new AbortController();
  // A diagnostic for the operator: once per instance, not once per worker.
  if (deps.worker?.checksStorage !== false)
    void withinDeadline(
      locator.checkStorage?.bind(locator),
      clock,
      STORAGE_CHECK_DEADLINE_MS,
      stopChecking.signal,
    ).then((checked) => {
      if (stopChecking.signal.aborted) return;
      logProblems(log, checked.problems);
      log.info({ problems: checked.problems.length, finished: checked.finished }, 'sibling storage checked');
    });

  const startDraining = () => {
    if (draining) return;
    draining = true;
    for (const s of HEALTH_SERVICES) health.setStatus(s, 'NOT_SERVING');
    log.info('draining: health NOT_SERVING, open streams still answered');
  };
  return {
    grpcAddress,
    adminAddress: admin?.address ?? '',
    get draining() {
      return draining;
    },
    adopt: (verdict) => fresh.freshness?.adopt(verdict),
    adoptFound: (target, found) => locator.adoptFound?.(target, found),
    startDraining,
    async close(graceMs = 1000) {
      stopChecking.abort();
      startDraining();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await admin?.close();
      // No notification arrives any more: abort the origin lookups still under way.
      await staleness?.recorder.close();
      await locator.close();
      await closeProbes();
    },
  };
}

function logProblems(log: Logger, problems: readonly StorageProblem[]): void {
  for (const p of problems) {
    if (p.kind === 'misconfigured')
      log.error({ sibling: p.region, problem: p.problem }, 'sibling storage looks misconfigured');
    else log.warn({ sibling: p.region, problem: p.problem }, 'sibling storage did not answer the warm-up');
  }
}

async function bind(server: grpc.Server, listen: ListenAddress): Promise<string> {
  const target = listen.kind === 'unix' ? `unix:${listen.path}` : formatListen(listen);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return listen.kind === 'unix' ? target : `${listen.host}:${port}`;
}
