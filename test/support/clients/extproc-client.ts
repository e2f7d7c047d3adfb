/**
 * A gRPC ext_proc client that speaks like Envoy (source/extensions/filters/http/ext_proc/ in
 * envoyproxy/envoy; test/integration/envoy/ pins that behaviour on the binary): one bidi stream
 * per upstream request, one message at a time, waiting for exactly one reply, header values in
 * `raw_value` (Envoy >= 1.27) or `value` (older), closing with a half-close followed at once by a
 * cancel (client_impl.cc `close()`). Used by integration tests to drive a real geosync server
 * over a real port.
 */
import * as grpc from '@grpc/grpc-js';
import { extProcPackage } from '../../../src/extproc/protos';
import type { ProcessingRequest } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { HeaderValueOption__Output } from '../../../src/generated/envoy/config/core/v3/HeaderValueOption';

export type HeaderEncoding = 'raw_value' | 'value';

export function headerMap(headers: Record<string, string>, encoding: HeaderEncoding = 'raw_value') {
  return {
    headers: Object.entries(headers).map(([key, value]) =>
      encoding === 'raw_value' ? { key, raw_value: Buffer.from(value) } : { key, value },
    ),
  };
}

export function requestHeadersMessage(
  headers: Record<string, string>,
  encoding: HeaderEncoding = 'raw_value',
) {
  return {
    request_headers: { headers: headerMap(headers, encoding), end_of_stream: true },
  } satisfies ProcessingRequest;
}

export function responseHeadersMessage(
  status: number,
  opts: {
    encoding?: HeaderEncoding;
    attributes?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): ProcessingRequest {
  const msg: ProcessingRequest = {
    response_headers: {
      headers: headerMap(
        { ':status': String(status), ...(opts.headers ?? {}) },
        opts.encoding ?? 'raw_value',
      ),
      end_of_stream: false,
    },
  };
  if (opts.attributes) {
    msg.attributes = {
      'envoy.filters.http.ext_proc': {
        fields: Object.fromEntries(Object.entries(opts.attributes).map(([k, v]) => [k, { stringValue: v }])),
      },
    };
  }
  return msg;
}

/** The header mutations of a reply, decoded the way Envoy >= 1.27 reads them (raw_value only). */
export function setHeaders(reply: ProcessingResponse__Output): Record<string, string> {
  const common = reply.response_headers?.response ?? reply.request_headers?.response;
  const out: Record<string, string> = {};
  for (const h of (common?.header_mutation?.set_headers ?? []) as HeaderValueOption__Output[]) {
    if (h.header) out[h.header.key] = Buffer.from(h.header.raw_value ?? []).toString('latin1');
  }
  return out;
}

export class ExtProcTestStream {
  private readonly replies: ProcessingResponse__Output[] = [];
  private waiter?: (r: ProcessingResponse__Output) => void;
  readonly status: Promise<grpc.StatusObject>;

  constructor(private readonly call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse__Output>) {
    call.on('data', (r: ProcessingResponse__Output) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(r);
      } else this.replies.push(r);
    });
    this.status = new Promise((resolve) => {
      call.on('status', resolve);
      call.on('error', () => {});
    });
  }

  /** Sends one message and waits for its reply, like Envoy within `message_timeout`. */
  async exchange(msg: ProcessingRequest, timeoutMs = 2000): Promise<ProcessingResponse__Output> {
    this.call.write(msg);
    return this.next(timeoutMs);
  }

  next(timeoutMs = 2000): Promise<ProcessingResponse__Output> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(t);
        resolve(r);
      };
    });
  }

  write(msg: ProcessingRequest): void {
    this.call.write(msg);
  }

  /** Envoy's `close()`: half-close immediately followed by a reset. */
  close(): void {
    this.call.end();
    this.call.cancel();
  }

  cancel(): void {
    this.call.cancel();
  }

  /** Half-close only (graceful close); the server's status follows. */
  end(): void {
    this.call.end();
  }

  get pendingReplies(): number {
    return this.replies.length;
  }
}

export class ExtProcTestClient {
  private readonly client: grpc.Client & {
    Process(): grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse__Output>;
  };

  /** `ownConnection`: a connection of its own, not one shared with other clients of the address. */
  constructor(address: string, opts: { ownConnection?: boolean } = {}) {
    const Ctor = extProcPackage().envoy.service.ext_proc.v3.ExternalProcessor;
    this.client = new Ctor(
      address,
      grpc.credentials.createInsecure(),
      opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {},
    ) as unknown as typeof this.client;
  }

  open(): ExtProcTestStream {
    return new ExtProcTestStream(this.client.Process());
  }

  close(): void {
    this.client.close();
  }
}
