/** `telemetry:`: OpenTelemetry traces and metrics, and the log level (src/telemetry/, src/log/). */
import { z } from 'zod';
import { defaulted, env, optional, section } from '../keys';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Resource attribute values as OpenTelemetry takes them: strings (numbers and booleans are written out). */
const attribute = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string' })
  .transform(String);
const url = z
  .string()
  .regex(/^https?:\/\/[^/]+/, { error: (iss) => `must be an http(s) URL, got "${String(iss.input)}"` });

export const telemetrySection = section(
  {
    serviceName: defaulted(z.string(), 'geosync'),
    otlpEndpoint: env('GEOSYNC_OTLP_ENDPOINT', optional(url, 'none')),
    resourceAttributes: defaulted(z.record(z.string(), attribute), {}),
    traceRepositoryNames: defaulted(z.boolean(), false),
    logLevel: env('GEOSYNC_LOG_LEVEL', defaulted(z.enum(LOG_LEVELS), 'info')),
  },
  {
    serviceName: 'OpenTelemetry `service.name`',
    otlpEndpoint: 'OTLP/gRPC endpoint for traces (none: traces are not exported)',
    resourceAttributes: 'extra resource attributes (`cloud.region` is set to `region`)',
    traceRepositoryNames: 'put repository names in spans and decision logs (off: names can be sensitive)',
    logLevel: 'the lowest level logged',
  },
);
