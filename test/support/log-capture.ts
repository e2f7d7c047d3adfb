/**
 * geosync's own logger (src/log/logger.ts) writing into memory: the JSON lines a test reads back,
 * each parsed, to check what was logged (and that nothing secret was).
 */
import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/config/types';
import { createLogger } from '../../src/log/logger';

export function capturedLogger(level: LogLevel, region = 'b') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level, region, destination: sink }) };
}
