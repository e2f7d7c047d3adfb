/**
 * Starts OpenTelemetry (@opentelemetry/sdk-node) from geosync's configuration, before anything
 * else, and hands out the Meter, the Tracer and the Prometheus `/metrics` route for the admin port.
 * Exporters are only what the configuration names: Prometheus (scraped, never pushed) always, OTLP
 * traces only with `telemetry.otlpEndpoint`. The SDK's environment defaults (an OTLP exporter to
 * localhost for traces and logs) are switched off by passing explicit, possibly empty, lists.
 */
import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import type { AdminRoute } from '../admin/server';
import type { TelemetryConfig } from '../config/types';
import { METER_NAME, TRACER_NAME } from './names';
import { VERSION } from '../version';

export interface Telemetry {
  readonly meter: Meter;
  /** Only when traces are exported (`telemetry.otlpEndpoint`). */
  readonly tracer?: Tracer;
  /** GET /metrics in the Prometheus text format. */
  readonly metricsRoute: AdminRoute;
  /** The same text, for a supervisor that merges its workers' (src/workers/). */
  metricsText(): Promise<string>;
  shutdown(): Promise<void>;
}

export function startTelemetry(config: TelemetryConfig, region: string): Telemetry {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName,
      'service.version': VERSION,
      'cloud.region': region,
    }),
    autoDetectResources: false,
    metricReaders: [prometheus],
    spanProcessors: config.otlpEndpoint
      ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.otlpEndpoint }) })]
      : [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return {
    meter: metrics.getMeter(METER_NAME, VERSION),
    ...(config.otlpEndpoint ? { tracer: trace.getTracer(TRACER_NAME, VERSION) } : {}),
    metricsRoute: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    metricsText: async () => serializer.serialize((await prometheus.collect()).resourceMetrics),
    shutdown: () => sdk.shutdown(),
  };
}
