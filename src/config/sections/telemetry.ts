/** `telemetry:`: OpenTelemetry traces and metrics, and the log level (src/telemetry/, src/log/). */
import { z } from 'zod';
import { defaulted, optional, section } from '../keys';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Resource attribute values as OpenTelemetry takes them: strings (numbers and booleans are written out). */
const attribute = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  .transform((v) => String(v));

export const telemetrySection = section(
  {
    serviceName: defaulted(z.string(), 'geosync', { description: 'OpenTelemetry `service.name`' }),
    otlpEndpoint: optional(
      z.string().regex(/^https?:\/\/[^/]+/, {
        error: (iss) => `must be an http(s) URL, got "${String(iss.input)}"`,
      }),
      {
        description: 'OTLP/gRPC endpoint for traces (none: traces are not exported)',
        defaultText: 'none',
      },
    ),
    resourceAttributes: defaulted(
      z.record(z.string(), attribute),
      {},
      {
        description: 'extra resource attributes (`cloud.region` is set to `region`)',
      },
    ),
    traceRepositoryNames: defaulted(z.boolean(), false, {
      description: 'put repository names in spans and decision logs (off: names can be sensitive)',
    }),
    logLevel: defaulted(z.enum(LOG_LEVELS), 'info', {
      description: 'the lowest level logged',
    }),
  },
  { description: 'Traces, metrics and logs.' },
);
