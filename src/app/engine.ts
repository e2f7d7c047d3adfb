/**
 * An engine: what answers Envoy, as each worker of an instance runs it (src/app/instance.ts hosts
 * one in its own process, or several as workers, src/workers/). The ext_proc gRPC server with
 * grpc.health.v1 on the same port, the locator, tag freshness and the tag-list union. It has no
 * admin port, no staleness figures and no signals: those are the instance's, once. What the
 * instance and the other engines need from it leaves through one port (EnginePort); what the
 * other engines learnt comes in through `adopt` and `adoptFound`. Returned as a handle, so tests
 * start it in-process on port 0.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { metrics as otelMetrics, type Meter, type Tracer } from '@opentelemetry/api';
import { systemClock, type Clock } from '../clock/clock';
import { formatListen, type GeosyncConfig, type ListenAddress } from '../config/types';
import type { DecisionRecord } from '../decide/decision';
import { addExtProcService, type StreamHooks } from '../extproc/server';
import type { RequestMeta } from '../extproc/stream';
import type { FoundManifest, Locator, StorageProblem } from '../locate/locator';
import type { Logger } from '../log/logger';
import type { PullTarget } from '../oci/pull';
import type { ObjectProbe } from '../storage/probe';
import type { LearntVerdict } from '../tag-freshness/check';
import { decisionLogger } from '../telemetry/decision-log';
import { GeosyncMetrics } from '../telemetry/metrics';
import { METER_NAME } from '../telemetry/names';
import { TracedProbe } from '../telemetry/probe';
import { StreamTracing } from '../telemetry/tracing';
import { buildLocator, siblingProbes } from './locator-factory';
import { buildFreshness } from './tag-freshness-factory';
import { buildTagLists } from './tag-list-factory';
import { STORAGE_CHECK_DEADLINE_MS, WARM_UP_BUDGET_MS, withinDeadline } from './warm-up';

/** gRPC health service names: '' (the server) and the ext_proc service Envoy health-checks. */
export const HEALTH_SERVICES = ['', 'envoy.service.ext_proc.v3.ExternalProcessor'];

export type ManifestTarget = Exclude<PullTarget, { kind: 'blob' }>;

/** What an engine reports, to its instance (in-process: direct calls; workers: IPC). */
export interface EnginePort {
  /** A manifest GET decided: all the staleness figures use (StalenessRecorder.pullDecided). */
  pullDecided(record: DecisionRecord, method: string, target: PullTarget): void;
  /** A tag-freshness verdict this engine learnt from storage, for the other engines to adopt. */
  learnt(verdict: LearntVerdict): void;
  /** A manifest this engine found in a sibling's storage, for the other engines to adopt. */
  manifestFound(target: ManifestTarget, found: FoundManifest): void;
}

/** An engine on its own (a test, a benchmark): nobody to tell. */
const NOBODY: EnginePort = { pullDecided: () => {}, learnt: () => {}, manifestFound: () => {} };

export interface EngineDeps {
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
  /** Where this engine's reports go; absent: nowhere. */
  readonly port?: EnginePort;
  /**
   * Whether this engine runs the start-up storage check, a diagnostic for the operator that one
   * engine per instance runs (the host picks which). Default true.
   */
  readonly checksStorage?: boolean;
}

export interface Engine {
  /** Bound gRPC address (`host:port` or `unix:PATH`), with the real port when configured as 0. */
  readonly grpcAddress: string;
  /** NOT_SERVING at once; open and new streams are still answered. */
  startDraining(): void;
  readonly draining: boolean;
  /** Another engine's tag-freshness verdict (nothing when tag freshness is off). */
  adopt(verdict: LearntVerdict): void;
  /** A manifest another engine found in a sibling's storage (Locator.adoptFound). */
  adoptFound(target: ManifestTarget, found: FoundManifest): void;
  /** Stops accepting streams, waits up to `graceMs` for open ones, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Resolves once the gRPC port is bound and the storage warm-up is done (or out of budget). */
export async function startEngine(config: GeosyncConfig, deps: EngineDeps): Promise<Engine> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log;
  const port = deps.port ?? NOBODY;
  const meter = deps.meter ?? otelMetrics.getMeter(METER_NAME);
  const tracer = deps.tracer;
  const metrics = new GeosyncMetrics(meter, clock, new Map(config.regions.map((r) => [r.name, r.lookup])));
  const traced = (p: ObjectProbe): ObjectProbe => (tracer ? new TracedProbe(p, tracer) : p);
  const siblings = siblingProbes(config, traced);
  const locator =
    deps.locator ??
    buildLocator(config, {
      clock,
      observer: metrics,
      siblings,
      onManifestFound: (target, found) => port.manifestFound(target, found),
    });
  // The locator closes the probes it uses; an injected locator leaves them to this function.
  const fresh = buildFreshness(config, {
    clock,
    siblings,
    wrap: traced,
    onStorageRound: () => metrics.tagStorageRound(),
    onLearnt: (verdict) => port.learnt(verdict),
  });
  const regionUrls = new Map(
    config.regions.filter((r) => r.name !== config.region).map((r) => [r.name, r.url]),
  );
  const tagLists = buildTagLists(config, clock, siblings, regionUrls);
  const closeProbes = async () => {
    await fresh.close();
    if (deps.locator) await Promise.all(siblings.map((s) => s.probe.close()));
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
        const target = meta.target?.eligible ? meta.target.target : undefined;
        // Only what the staleness figures use leaves the engine (StalenessRecorder.pullDecided).
        if (meta.method === 'GET' && target && target.kind !== 'blob')
          port.pullDecided(record, meta.method, target);
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
  log.info({ grpc: grpcAddress, siblings: [...regionUrls.keys()] }, 'geosync serving');
  const stopChecking = new AbortController();
  if (deps.checksStorage ?? true)
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

  let draining = false;
  const startDraining = () => {
    if (draining) return;
    draining = true;
    for (const s of HEALTH_SERVICES) health.setStatus(s, 'NOT_SERVING');
    log.info('draining: health NOT_SERVING, open streams still answered');
  };
  return {
    grpcAddress,
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
