#!/usr/bin/env node
/** Process entry point: the only place that touches signals and exits. */
import { main } from './cli/main';

const terminated = new Promise<string>((resolve) => {
  process.once('SIGTERM', () => resolve('SIGTERM'));
  process.once('SIGINT', () => resolve('SIGINT'));
});

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  terminated,
}).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a moment to flush, then leave even if a handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`geosync: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
