/**
 * `geosync serve --config FILE`: reads the flags and the configuration, starts telemetry, then
 * runs the instance (src/app/instance.ts: admin port, readiness, staleness, drain on SIGTERM,
 * SIGINT or SIGHUP, exit). Its engines answer ext_proc in this process (`listen.workers` 1) or as
 * workers (more; 0 = one per core), each of which runs this command again as a cluster worker
 * (src/workers/worker.ts).
 */
import cluster from 'node:cluster';
import { systemClock } from '../clock/clock';
import { inProcessHost } from '../app/in-process-host';
import { runInstance } from '../app/instance';
import { clusterHost } from '../workers/supervisor';
import { processChannel, runWorker, workerIndex } from '../workers/worker';
import { workerCount } from '../workers/cores';
import { createLogger } from '../log/logger';
import { startTelemetry } from '../telemetry/sdk';
import { EXIT, type Command } from './command';
import { configFromArgs } from './config-file';

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
    const host =
      workers > 1
        ? clusterHost(config, { log, telemetry, workers })
        : inProcessHost(config, {
            log,
            meter: telemetry.meter,
            ...(telemetry.tracer ? { tracer: telemetry.tracer } : {}),
            metrics: telemetry.metricsRoute,
          });
    const end = await runInstance(config, {
      log,
      clock: systemClock,
      meter: telemetry.meter,
      host,
      terminated: io.terminated,
    });
    await telemetry.shutdown();
    log.flush();
    if (end.kind === 'failed') {
      io.stderr(`geosync failed to start: ${end.reason}\n`);
      return EXIT.failure;
    }
    return EXIT.ok;
  },
};
