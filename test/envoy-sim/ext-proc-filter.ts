/**
 * ext_proc as a cluster-level UPSTREAM filter (envoy-semantics.md §1–§4; ext_proc.cc,
 * processor_state.cc). One instance per upstream attempt, so one gRPC stream per attempt, opened
 * lazily when the first message must be sent. Only header phases are modelled (body modes NONE;
 * trailers never present on the simulator's HTTP/1 path).
 *
 * Every exit leaves the attempt in one of three states, returned as a FilterOutcome:
 *   continue    – the paused direction resumes (possibly with mutated headers),
 *   local_reply – an upstream local reply (§2.4, knob `upstreamImmediateResponse`),
 *   hang        – pre-#41231 Envoy ignored the local reply upstream and left the filter paused, so the
 *                 attempt waits for the route/idle timeout (§3 "Upstream filter, FMA=false").
 */
import type { HeaderMutation__Output } from '../../src/generated/envoy/service/ext_proc/v3/HeaderMutation';
import type { HeadersResponse__Output } from '../../src/generated/envoy/service/ext_proc/v3/HeadersResponse';
import type { ProcessingMode__Output } from '../../src/generated/envoy/extensions/filters/http/ext_proc/v3/ProcessingMode';
import type { ProcessingResponse__Output } from '../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { Duration__Output } from '../../src/generated/google/protobuf/Duration';
import type { ExtProcConfig, ProcessingModeConfig } from './ext-proc-config';
import { type ProcessStream, httpStatusNumber } from './ext-proc-client';
import { buildAttributes, headersRequest } from './ext-proc-messages';
import type { HeaderMap } from './header-map';
import type { Knobs } from './knobs';
import { applyHeaderMutations } from './mutation-rules';
import { effectiveModeOverride } from './processing-mode';
import type { Stats } from './stats';

export type FilterOutcome =
  | { action: 'continue'; replaceBody?: Buffer }
  | {
      action: 'local_reply';
      status: number;
      body: string;
      details: string;
      headers?: HeaderMutation__Output | null;
    }
  | { action: 'hang'; details: string };

type Phase = 'request_headers' | 'response_headers';

export interface ExtProcFilterDeps {
  config: ExtProcConfig;
  knobs: Knobs;
  stats: Stats;
  /** Counter scope, e.g. `cluster.local_registry.ext_proc.` */
  statScope: string;
  openStream: () => ProcessStream | Error;
  maxHeadersCount: number;
  maxHeadersKb: number;
  routeName: string;
  clusterName: string;
}

const ERROR_PREFIX = 'ext_proc_error';

export class UpstreamExtProcFilter {
  private stream?: ProcessStream;
  private streamClosed = false;
  private processingComplete = false;
  private pending?: { phase: Phase; headers: HeaderMap; resolve: (o: FilterOutcome) => void };
  private timer?: NodeJS.Timeout;
  private timerOverridden = false;
  private readonly sentAttributes = { request: false, response: false };
  private mode: ProcessingModeConfig;
  private requestHeaders?: HeaderMap;
  private requestHeadersSent = false;
  /** A local reply decided while no phase was paused; delivered at the next phase. */
  private deferred?: FilterOutcome;

  constructor(private readonly d: ExtProcFilterDeps) {
    this.mode = { ...d.config.processingMode };
  }

  /** Upstream decodeHeaders: the request headers the router forwards (§4.3). */
  decodeHeaders(headers: HeaderMap, endOfStream: boolean): Promise<FilterOutcome> {
    this.requestHeaders = headers;
    if (this.deferred) return Promise.resolve(this.deferred);
    // processor_state.cc setProcessingModeInternal: send_headers_ = mode != SKIP.
    if (this.processingComplete || this.mode.request_header_mode === 'SKIP')
      return Promise.resolve({ action: 'continue' });
    this.requestHeadersSent = true;
    return this.sendAndWait('request_headers', headers, endOfStream);
  }

  /** Upstream encodeHeaders: the response headers, `:status` included, before the router sees them (§4.4). */
  encodeHeaders(headers: HeaderMap, endOfStream: boolean): Promise<FilterOutcome> {
    if (this.deferred) return Promise.resolve(this.deferred);
    if (this.processingComplete || this.mode.response_header_mode === 'SKIP')
      return Promise.resolve({ action: 'continue' });
    return this.sendAndWait('response_headers', headers, endOfStream);
  }

  /** End of the upstream attempt (onDestroy): half-close then cancel (§1.8). */
  onDestroy(): void {
    this.stopTimer();
    this.closeStream();
    this.processingComplete = true;
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ action: 'hang', details: 'attempt destroyed' });
  }

  private count(name: string): void {
    this.d.stats.inc(`${this.d.statScope}${name}`);
  }

  private sendAndWait(phase: Phase, headers: HeaderMap, endOfStream: boolean): Promise<FilterOutcome> {
    const cfg = this.d.config;
    if (!this.stream) {
      const opened = this.d.openStream();
      if (opened instanceof Error) return Promise.resolve(this.onStreamCreationFailure(opened));
      this.stream = opened;
      this.count('streams_started');
      opened.on('data', (m: ProcessingResponse__Output) => this.onReceiveMessage(m));
      opened.on('status', (s: { code: number }) => this.onStatus(s.code));
      opened.on('error', () => undefined); // reported through 'status'
    }
    const direction = phase === 'request_headers' ? 'request' : 'response';
    let attributes;
    if (!this.sentAttributes[direction]) {
      this.sentAttributes[direction] = true;
      // §1.4: before 1.37, request-header attributes were missing on an encode-only filter.
      const requestVisible = this.requestHeadersSent || this.d.knobs.encodeOnlyAttributesFix;
      attributes = buildAttributes(direction === 'request' ? cfg.requestAttributes : cfg.responseAttributes, {
        request: requestVisible ? this.requestHeaders : undefined,
        response: direction === 'response' ? headers : undefined,
        routeName: this.d.routeName,
        clusterName: this.d.clusterName,
      });
    }
    const msg = headersRequest(phase, headers, endOfStream, this.d.knobs.sendRawValue, attributes);
    return new Promise<FilterOutcome>((resolve) => {
      this.pending = { phase, headers, resolve };
      this.stream?.write(msg);
      this.count('stream_msgs_sent');
      this.startTimer(cfg.messageTimeoutMs);
    });
  }

  // §3.6: the stream cannot be created (cluster missing).
  private onStreamCreationFailure(err: Error): FilterOutcome {
    this.processingComplete = true;
    if (this.d.config.failureModeAllow) {
      this.count('failure_mode_allowed');
      return { action: 'continue' };
    }
    return this.immediateOutcome(500, '', `${ERROR_PREFIX}_stream_creation_failed{${err.message}}`, null);
  }

  private startTimer(ms: number): void {
    this.stopTimer();
    this.timerOverridden = false;
    this.timer = setTimeout(() => this.onMessageTimeout(), ms);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** ext_proc.cc onReceiveMessage, case by case. */
  private onReceiveMessage(r: ProcessingResponse__Output): void {
    if (this.processingComplete) return; // "Ignoring stream message received after processing complete"
    if (r.override_message_timeout) {
      this.onNewTimeout(r.override_message_timeout); // all other fields are ignored (§1.5)
      return;
    }
    // §1.6: honoured only when allowed and waiting for a headers reply; both directions.
    if (this.d.config.allowModeOverride && this.pending && r.mode_override)
      this.applyModeOverride(r.mode_override);

    switch (r.response) {
      case 'request_headers':
      case 'response_headers': {
        const reply = r[r.response];
        if (!this.pending || this.pending.phase !== r.response || !reply) return this.onSpurious();
        return this.handleHeadersResponse(reply);
      }
      case 'immediate_response': {
        if (this.d.config.disableImmediateResponse || !r.immediate_response) return this.onSpurious();
        this.count('stream_msgs_received');
        this.processingComplete = true;
        this.stopTimer();
        this.closeStream();
        const ir = r.immediate_response;
        const status = httpStatusNumber(ir.status?.code) ?? 200;
        return this.sendImmediateResponse(status, ir.body.toString('latin1'), ir.details, ir.headers);
      }
      default:
        return this.onSpurious();
    }
  }

  /** processor_state.cc handleHeadersResponse for CONTINUE / CONTINUE_AND_REPLACE (§2.1, §2.2). */
  private handleHeadersResponse(reply: HeadersResponse__Output): void {
    const pending = this.pending;
    if (!pending) return;
    this.stopTimer();
    const common = reply.response;
    const replacing = common?.status === 'CONTINUE_AND_REPLACE';
    if (common?.header_mutation) {
      const result = applyHeaderMutations(common.header_mutation, pending.headers, {
        rules: this.d.config.mutationRules,
        rawValue: this.d.knobs.sendRawValue,
        replacingMessage: replacing,
        maxHeadersCount: this.d.maxHeadersCount,
        maxHeadersKb: this.d.maxHeadersKb,
        onRejected: () => this.count('rejected_header_mutations'),
      });
      if (!result.ok) return this.onProcessingError(result.message); // §3.5, FMA not consulted
    }
    // §2.5: clear_route_cache is always ignored in an upstream filter.
    if (common?.clear_route_cache) this.count('clear_route_cache_upstream_ignored');
    this.count('stream_msgs_received');
    this.pending = undefined;
    const bm = replacing ? common?.body_mutation : undefined;
    const replaceBody =
      bm?.mutation === 'body'
        ? Buffer.from(bm.body ?? '')
        : bm?.mutation === 'clear_body' && bm.clear_body
          ? Buffer.alloc(0)
          : undefined;
    pending.resolve(replaceBody ? { action: 'continue', replaceBody } : { action: 'continue' });
    this.closeIfLastResponseReceived(pending.phase);
  }

  /** §1.8 (1.37 `ext_proc_stream_close_optimization`): close as soon as no further reply is expected. */
  private closeIfLastResponseReceived(phase: Phase): void {
    if (!this.d.knobs.streamCloseOptimization) return;
    const m = this.mode;
    const moreAfterRequest =
      m.response_header_mode !== 'SKIP' ||
      m.request_trailer_mode === 'SEND' ||
      m.response_trailer_mode === 'SEND';
    const moreAfterResponse = m.response_trailer_mode === 'SEND';
    if (phase === 'request_headers' ? !moreAfterRequest : !moreAfterResponse) {
      this.processingComplete = true;
      this.closeStream();
    }
  }

  /** §1.6, applied to both directions for this request. */
  private applyModeOverride(o: ProcessingMode__Output): void {
    this.mode = effectiveModeOverride(
      this.d.config.processingMode,
      o,
      this.d.knobs.modeOverrideDefaultUnchanged,
    );
  }

  /** §2.7: only with max_message_timeout set, a running timer, once, and 1 ms ≤ value ≤ max. */
  private onNewTimeout(d: Duration__Output): void {
    const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
    const max = this.d.config.maxMessageTimeoutMs;
    if (max === 0 || ms < 1 || ms > max || !this.timer || this.timerOverridden) {
      this.count('override_message_timeout_ignored');
      return;
    }
    this.stopTimer();
    this.timer = setTimeout(() => this.onMessageTimeout(), ms);
    this.timerOverridden = true;
    this.count('override_message_timeout_received');
  }

  /** §3.4: wrong oneof, reply while idle, second reply. Fail-close with FMA=false from 1.35. */
  private onSpurious(): void {
    this.count('spurious_msgs_received');
    this.closeStream();
    this.processingComplete = true;
    if (this.d.knobs.spuriousFailClose && !this.d.config.failureModeAllow) {
      this.stopTimer();
      this.sendImmediateResponse(500, '', `${ERROR_PREFIX}_spurious_message`, null);
      return;
    }
    this.clearAsyncState();
  }

  /** §3.5: a mutation error is an error reply whatever failure_mode_allow says. */
  private onProcessingError(message: string): void {
    this.count('stream_msgs_received');
    this.processingComplete = true;
    this.stopTimer();
    this.closeStream();
    this.sendImmediateResponse(500, '', message, null);
  }

  /** §3.1 onMessageTimeout. */
  private onMessageTimeout(): void {
    this.timer = undefined;
    this.count('message_timeouts');
    this.processingComplete = true;
    this.closeStream();
    if (this.d.config.failureModeAllow) {
      this.count('failure_mode_allowed');
      this.clearAsyncState();
      return;
    }
    this.sendImmediateResponse(
      this.d.knobs.timeoutStatus,
      '',
      `${ERROR_PREFIX}_per-message_timeout_exceeded`,
      null,
    );
  }

  /** grpc-js reports the end of the call once, with its status. Our own cancel is not an error. */
  private onStatus(code: number): void {
    if (this.streamClosed) return;
    this.streamClosed = true;
    if (code === 0) return this.onGrpcClose();
    this.onGrpcError(code);
  }

  /** §3.3: a clean close before replying is always fail-open. */
  private onGrpcClose(): void {
    this.processingComplete = true;
    this.count('streams_closed');
    this.clearAsyncState();
  }

  /** §3.2 onGrpcError. */
  private onGrpcError(code: number): void {
    this.count('streams_failed');
    if (this.processingComplete) return;
    if (this.d.config.failureModeAllow) {
      this.onGrpcClose();
      this.count('failure_mode_allowed');
      return;
    }
    this.processingComplete = true;
    this.stopTimer();
    this.sendImmediateResponse(500, '', `${ERROR_PREFIX}_gRPC_error_${code}`, null);
  }

  /** Resume the paused direction unmodified. */
  private clearAsyncState(): void {
    this.stopTimer();
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ action: 'continue' });
  }

  /** §2.4: ignored upstream before PR #41231 (the filter stays paused), a local reply after. */
  private sendImmediateResponse(
    status: number,
    body: string,
    details: string,
    headers: HeaderMutation__Output | null,
  ): void {
    const outcome = this.immediateOutcome(status, body, details, headers);
    const p = this.pending;
    this.pending = undefined;
    if (p) p.resolve(outcome);
    else if (outcome.action === 'local_reply') this.deferred = outcome;
  }

  private immediateOutcome(
    status: number,
    body: string,
    details: string,
    headers: HeaderMutation__Output | null,
  ): FilterOutcome {
    if (!this.d.knobs.upstreamImmediateResponse) {
      this.count('send_immediate_resp_upstream_ignored');
      return { action: 'hang', details };
    }
    return { action: 'local_reply', status: status < 200 ? 200 : status, body, details, headers };
  }

  /** client_impl.cc close(): closeStream() (half-close) immediately followed by resetStream(). */
  private closeStream(): void {
    const s = this.stream;
    if (!s || this.streamClosed) return;
    this.streamClosed = true;
    this.count('streams_closed');
    s.end();
    s.cancel();
  }
}
