/**
 * `geosync serve --config FILE`. On SIGTERM (or SIGINT, SIGHUP): health NOT_SERVING and /readyz
 * 503 at once (so Envoy and Kubernetes stop sending new work), open streams answered for
 * `drainMs`, then exit 0. With more than one worker (`listen.workers`; 0 = one per core) this
 * process supervises them (src/workers/supervisor.ts) and each worker runs this command again as
 * a cluster worker (src/workers/worker.ts).
 */
import cluster from 'node:cluster';
import { systemClock } from '../clock/clock';
import { runSupervisor } from '../workers/supervisor';
import { processChannel, runWorker, workerIndex } from '../workers/worker';
import { workerCount } from '../workers/cores';
import { startGeosync } from '../app/geosync';
import { createLogger } from '../log/logger';
import { startTelemetry } from '../telemetry/sdk';
import { EXIT, type Command } from './command';
import { configFromArgs } from './config-file';
import { formatListen, type ListenAddress } from '../config/types';
import { runningFsCalls } from '../storage/fs-calls';

function isWildcard(address: ListenAddress): boolean {
  return address.kind === 'tcp' && (address.host === '0.0.0.0' || address.host === '::');
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'geosync serve --config FILE',
  summary: 'run the ext_proc service for one region',
  async run(args, io) {
    const loaded = await configFromArgs(args, io, this.usage);
    if ('exit' in loaded) return loaded.exit;
    const config = loaded.config;
    // OpenTelemetry first, so every instrument and span below binds to the real providers.
    const telemetry = startTelemetry(config.telemetry, config.region);
    const root = createLogger({ level: config.telemetry.logLevel, region: config.region });
    if (cluster.isWorker) {
      const index = workerIndex();
      const log = root.child({ worker: index });
      const code = await runWorker(config, { log, telemetry, channel: processChannel(), index });
      log.flush();
      return code;
    }
    const log = root;
    const workers = workerCount(config.listen.workers);
    if (isWildcard(config.listen.grpc)) {
      // The ext_proc port has no authentication: whoever reaches it can ask where content is and
      // make geosync probe storage. Envoy beside it needs loopback (or a unix socket) only.
      log.warn(
        { grpc: formatListen(config.listen.grpc) },
        'listen.grpc accepts connections on every interface, and the ext_proc port is unauthenticated: bind it to loopback or a unix socket unless a network policy keeps others out',
      );
    }
    if (workers > 1) {
      const code = await runSupervisor(config, {
        log,
        telemetry,
        clock: systemClock,
        workers,
        terminated: io.terminated,
      });
      log.flush();
      return code;
    }
    let app;
    try {
      app = await startGeosync(config, {
        log,
        meter: telemetry.meter,
        ...(telemetry.tracer ? { tracer: telemetry.tracer } : {}),
        adminRoutes: new Map([['/metrics', telemetry.metricsRoute]]),
      });
    } catch (err) {
      log.fatal({ err }, 'geosync failed to start');
      io.stderr(`geosync failed to start: ${(err as Error).message}\n`);
      await telemetry.shutdown();
      return EXIT.failure;
    }
    const signal = await io.terminated;
    log.info({ signal, drainMs: config.drainMs }, 'stopping: draining');
    app.startDraining();
    await new Promise((resolve) => setTimeout(resolve, config.drainMs));
    await app.close(1000);
    await telemetry.shutdown();
    const hanging = runningFsCalls();
    if (hanging > 0) {
      log.warn(
        { calls: hanging },
        "filesystem calls to a sibling's storage still hang (a dead mount?): the process ends once they return; abort them to end it now: umount -f on the mount (fusermount -u and umount -l leave them blocked; see docs/operations.md, section A sibling on a filesystem that hangs)",
      );
    }
    log.info('stopped');
    log.flush();
    return EXIT.ok;
  },
};
