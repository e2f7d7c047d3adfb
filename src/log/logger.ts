/**
 * Structured JSON logs (pino). Secrets never reach a log line: request headers that carry
 * credentials are redacted by path, and S3 keys are not part of any logged object.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/types';

export type { Logger };

/** Header names whose values are credentials (lower case, as Envoy sends them). */
export const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
];

export const REDACT_PATHS = [
  ...SECRET_HEADERS.map((h) => `headers["${h}"]`),
  ...SECRET_HEADERS.map((h) => `*.headers["${h}"]`),
  'secretAccessKey',
  '*.secretAccessKey',
  'credentials',
  '*.credentials',
  'sessionToken',
  '*.sessionToken',
  // Azure Blob: the shared key, a SAS token, a client secret (under `credentials`, above).
  'accountkey',
  '*.accountkey',
  'sastoken',
  '*.sastoken',
];

export function createLogger(opts: {
  level: LogLevel;
  region: string;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'geosync', region: opts.region },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
