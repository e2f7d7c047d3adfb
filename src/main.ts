#!/usr/bin/env node
/** Process entry point: the only place that touches signals and exits. */
import { main } from './cli/main';

// SIGHUP too (a closed terminal or session, a supervisor's "reload"): geosync has nothing to
// reload, and Node's default for it is to exit at once, failing the streams in flight.
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const terminated = new Promise<string>((resolve) => {
  for (const signal of STOP_SIGNALS) process.once(signal, () => resolve(signal));
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
