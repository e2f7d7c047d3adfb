/**
 * A real grpc-js ExternalProcessor server whose replies are scripted per message, for tests that
 * drive a real Envoy into the cases geosync itself never produces (a processor that hangs, errors,
 * answers with the wrong encoding). It records every stream: its messages and how it ended.
 */
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { externalProcessorService } from '../../../src/extproc/protos';
import type { ProcessingRequest__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';

export type StreamEvent = 'end' | 'cancelled' | `msg:${string}`;

export interface ProcessorStream {
  readonly messages: ProcessingRequest__Output[];
  readonly events: StreamEvent[];
  readonly call: grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>;
}

export type Script = (msg: ProcessingRequest__Output, s: ProcessorStream) => void;

export interface ScriptedProcessor {
  /** `127.0.0.1:port` or `unix:/path`, as geosync's `listen.grpc` names it. */
  readonly address: string;
  readonly streams: ProcessorStream[];
  /** TCP connections accepted so far (HTTP/2 connections Envoy opened); 0 for a unix socket. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Listens on `address` (`127.0.0.1:0` by default, or `unix:/path`). TCP connections are counted
 * through a pass-through proxy in front of the gRPC server.
 */
export async function startProcessor(script: Script, address = '127.0.0.1:0'): Promise<ScriptedProcessor> {
  const streams: ProcessorStream[] = [];
  const server = new grpc.Server();
  server.addService(externalProcessorService(), {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>) => {
      const s: ProcessorStream = { messages: [], events: [], call };
      streams.push(s);
      call.on('data', (m: ProcessingRequest__Output) => {
        s.messages.push(m);
        s.events.push(`msg:${m.request ?? '?'}`);
        script(m, s);
      });
      call.on('end', () => s.events.push('end'));
      call.on('cancelled', () => s.events.push('cancelled'));
      call.on('error', () => undefined);
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      address.startsWith('unix:') ? address : '127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );
  if (address.startsWith('unix:')) {
    return { address, streams, connections: () => 0, close: async () => server.forceShutdown() };
  }
  // A counting TCP front on the requested port (0: any).
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(bound, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = Number(address.split(':').pop());
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  const actual = (front.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${actual}`,
    streams,
    connections: () => accepted,
    close: async () => {
      server.forceShutdown();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

/** The value of a header in a message, read as Envoy sends it (raw_value first). */
export function headerOf(m: ProcessingRequest__Output, key: string): string | undefined {
  const hs = (m.response_headers ?? m.request_headers)?.headers?.headers ?? [];
  const h = hs.find((x) => x.key === key);
  if (!h) return undefined;
  return h.raw_value && h.raw_value.length > 0 ? Buffer.from(h.raw_value).toString('latin1') : h.value;
}

/** The string attributes Envoy attached to a message. */
export function attributesOf(m: ProcessingRequest__Output): Record<string, string> {
  const fields = m.attributes?.['envoy.filters.http.ext_proc']?.fields ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (typeof v?.stringValue === 'string') out[k] = v.stringValue;
  return out;
}

/** A reply setting headers the way geosync does (raw_value, `append` unset). */
export function setHeadersReply(headers: Record<string, string>): ProcessingResponse {
  return {
    response_headers: {
      response: {
        header_mutation: {
          set_headers: Object.entries(headers).map(([key, v]) => ({
            header: { key, raw_value: Buffer.from(v) },
          })),
        },
      },
    },
  };
}
