/**
 * `geosync serve --config FILE`. On SIGTERM: health NOT_SERVING and /readyz 503 at once (so Envoy
 * and Kubernetes stop sending new work), open streams answered for `drainMs`, then exit 0.
 */
import { startGeosync } from '../app/geosync';
import { formatProblems, loadConfigFile } from '../config/load';
import { createLogger } from '../log/logger';
import { startTelemetry } from '../telemetry/sdk';
import { EXIT, parseFlags, type Command } from './command';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'geosync serve --config FILE',
  summary: 'run the ext_proc service for one region',
  async run(args, io) {
    const { flags, errors } = parseFlags(args, ['config']);
    const file = flags.get('config');
    if (errors.length > 0 || !file) {
      io.stderr(
        `${[...errors, ...(file ? [] : ['--config FILE is required'])].join('\n')}\nusage: ${this.usage}\n`,
      );
      return EXIT.usage;
    }
    const result = await loadConfigFile(file);
    if (!result.ok) {
      io.stderr(`${file}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}\n`);
      return EXIT.usage;
    }
    const config = result.config;
    // OpenTelemetry first, so every instrument and span below binds to the real providers.
    const telemetry = startTelemetry(config.telemetry, config.region);
    const log = createLogger({ level: config.telemetry.logLevel, region: config.region });
    let app;
    try {
      app = await startGeosync(config, {
        log,
        meter: telemetry.meter,
        tracer: telemetry.tracer,
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
    log.info('stopped');
    log.flush();
    return EXIT.ok;
  },
};
