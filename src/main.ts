#!/usr/bin/env node
/** Process entry point: the only place that touches signals and exits. */
import { main } from './cli/main';
import { THREADPOOL_SIZE } from './storage/fs-calls';

// Before any filesystem call or DNS lookup creates libuv's pool: 4 threads by default, shared by
// every sibling's filesystem calls (each root may use a quarter, src/storage/fs-calls.ts) and the
// S3 endpoints' DNS lookups. Workers inherit it. An operator's own value wins.
process.env.UV_THREADPOOL_SIZE ??= String(THREADPOOL_SIZE);

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
