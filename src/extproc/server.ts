/**
 * The gRPC edge: `envoy.service.ext_proc.v3.ExternalProcessor/Process`. Messages of one stream are
 * handled strictly in order (a promise chain per stream: an async 'data' handler would reorder
 * them), each gets exactly one reply, and a stream Envoy cancels stops its lookup at once.
 * Envoy closes a stream with a half-close immediately followed by a reset (client_impl.cc
 * `close()`), so nothing is written after Envoy has gone.
 */
import { ABORTED } from '../abort/reason';
import * as grpc from '@grpc/grpc-js';
import type { ProcessingRequest__Output } from '../generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { Logger } from '../log/logger';
import { externalProcessorService } from './protos';
import { StreamProcessor, type StreamContext } from './stream';

export type ProcessCall = grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>;

export interface StreamHooks {
  streamOpened?(): void;
  streamClosed?(how: 'ended' | 'cancelled' | 'protocol_error'): void;
  messageReceived?(phase: string): void;
}

export function addExtProcService(
  server: grpc.Server,
  ctx: StreamContext,
  log: Logger,
  hooks: StreamHooks = {},
): void {
  server.addService(externalProcessorService(), {
    Process: (call: ProcessCall) => handleStream(call, ctx, log, hooks),
  });
}

export function handleStream(call: ProcessCall, ctx: StreamContext, log: Logger, hooks: StreamHooks): void {
  const trace = ctx.newStreamTrace?.();
  const processor = new StreamProcessor(ctx, trace);
  const cancelled = new AbortController();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  hooks.streamOpened?.();

  const finish = (how: 'ended' | 'cancelled' | 'protocol_error') => {
    if (closed) return;
    closed = true;
    trace?.end(how);
    hooks.streamClosed?.(how);
  };

  call.on('cancelled', () => {
    cancelled.abort(ABORTED);
    finish('cancelled');
  });
  call.on('error', () => {
    cancelled.abort(ABORTED);
    finish('cancelled');
  });
  call.on('data', (msg: ProcessingRequest__Output) => {
    hooks.messageReceived?.(msg.request ?? 'none');
    chain = chain.then(async () => {
      if (closed || cancelled.signal.aborted) return;
      let result;
      try {
        result = await processor.step(msg, cancelled.signal);
      } catch (err) {
        // A bug must not hang Envoy: end the stream, and failure_mode_allow lets the response pass.
        log.error({ err }, 'ext_proc step failed');
        result = { protocolError: 'internal error' };
      }
      if (closed || cancelled.signal.aborted || call.cancelled) return;
      if ('reply' in result) {
        call.write(result.reply);
        if (result.last) {
          // End the stream with OK as soon as nothing more is needed. Envoy marks a remotely
          // closed stream closed (ext_proc client_impl.cc onRemoteClose) and then skips its own
          // half-close + RST_STREAM. Without this every stream ends in a reset from Envoy, and
          // Node's HTTP/2 server (nghttp2's rapid-reset limit: a burst of ~1000 resets, then 33/s)
          // answers a busy Envoy connection with GOAWAY, failing the streams in flight.
          // If Envoy was configured to send more (bodies, trailers), it continues them unmodified.
          call.end();
          finish('ended');
        }
        return;
      }
      log.warn({ reason: result.protocolError }, 'ext_proc protocol error; ending stream');
      finish('protocol_error');
      // grpc-js ends a server stream with the status of an emitted error.
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: result.protocolError });
    });
  });
  call.on('end', () => {
    // Envoy half-closed: answer what is queued, then end our side.
    void chain.then(() => {
      if (!closed && !call.cancelled) call.end();
      finish('ended');
    });
  });
}
