/**
 * One span per ext_proc stream (`geosync.extproc.stream`), a child span for the lookup, and (from
 * probe.ts) one grandchild per region probe. When Envoy forwards `traceparent`, the stream span
 * joins the client's trace (W3C Trace Context, https://www.w3.org/TR/trace-context/).
 * Attributes carry the decision, kind and source region; never credentials, and the repository
 * name only when `telemetry.traceRepositoryNames` is on.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { DecisionRecord } from '../decide/decision';
import type { StreamTrace } from '../extproc/stream';
import type { Classification } from '../oci/pull';
import { ATTR, SPANS } from './names';

const propagator = new W3CTraceContextPropagator();
const getter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

export class StreamTracing {
  constructor(
    private readonly tracer: Tracer,
    private readonly opts: { traceRepositoryNames: boolean },
  ) {}

  forStream(): StreamTrace {
    return new OtelStreamTrace(this.tracer, this.opts);
  }
}

class OtelStreamTrace implements StreamTrace {
  private span?: Span;
  private ctx: Context = ROOT_CONTEXT;

  constructor(
    private readonly tracer: Tracer,
    private readonly opts: { traceRepositoryNames: boolean },
  ) {}

  /** The span starts with the first thing known about the request, so it can take its parent. */
  private ensureSpan(traceparent?: string): Span {
    if (!this.span) {
      const parent = traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, getter) : ROOT_CONTEXT;
      this.span = this.tracer.startSpan(SPANS.stream, {}, parent);
      this.ctx = trace.setSpan(parent, this.span);
    }
    return this.span;
  }

  requestSeen(meta: { requestId?: string; traceparent?: string }): void {
    const span = this.ensureSpan(meta.traceparent);
    if (meta.requestId) span.setAttribute(ATTR.requestId, meta.requestId);
  }

  async lookup<T>(fn: () => Promise<T>): Promise<T> {
    this.ensureSpan();
    const span = this.tracer.startSpan(SPANS.lookup, {}, this.ctx);
    try {
      return await context.with(trace.setSpan(this.ctx, span), fn);
    } finally {
      span.end();
    }
  }

  decided(record: DecisionRecord, target?: Classification): void {
    const span = this.ensureSpan();
    span.setAttribute(ATTR.outcome, record.outcome);
    if (record.kind) span.setAttribute(ATTR.kind, record.kind);
    if (record.reason) span.setAttribute(ATTR.reason, record.reason);
    if (record.sourceRegion) span.setAttribute(ATTR.sourceRegion, record.sourceRegion);
    if (record.lookupMs !== undefined) span.setAttribute(ATTR.lookupMs, record.lookupMs);
    if (this.opts.traceRepositoryNames && target?.eligible)
      span.setAttribute(ATTR.repository, target.target.repository);
    if (record.outcome === 'error')
      span.setStatus({ code: SpanStatusCode.ERROR, message: record.reason ?? 'error' });
  }

  end(how: string): void {
    if (!this.span) return;
    this.span.setAttribute(ATTR.how, how);
    this.span.end();
  }
}
