/**
 * Fixtures for the simulator's own tests: real node http servers on port 0 as registries and
 * siblings, a real grpc-js ext_proc server on port 0 as a scripted processor, and a bootstrap
 * shaped like the one `geosync envoy-config` generates.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { externalProcessorService } from '../../../src/extproc/protos';
import type { ProcessingRequest__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeServer {
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => void;

/** A registry-like HTTP server that records every request (body included) before answering. */
export async function startServer(handler: Handler): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      handler(rec, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const notFound: Handler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
};

export const okBody =
  (body: string): Handler =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

export type StreamEvent = 'end' | 'cancelled' | `msg:${string}`;

export interface ProcessorStream {
  messages: ProcessingRequest__Output[];
  events: StreamEvent[];
  call: grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>;
}

export type Script = (msg: ProcessingRequest__Output, s: ProcessorStream) => void;

export interface FakeProcessor {
  port: number;
  streams: ProcessorStream[];
  close(): Promise<void>;
}

/** A real grpc-js ExternalProcessor server whose replies are scripted per message. */
export async function startProcessor(script: Script, listenPort = 0): Promise<FakeProcessor> {
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
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${listenPort}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    port,
    streams,
    close: () =>
      new Promise((r) => {
        server.forceShutdown();
        r();
      }),
  };
}

export function header(m: ProcessingRequest__Output, key: string): string | undefined {
  const hs = (m.response_headers ?? m.request_headers)?.headers?.headers ?? [];
  const h = hs.find((x) => x.key === key);
  if (!h) return undefined;
  return h.raw_value.length > 0 ? h.raw_value.toString('latin1') : h.value;
}

/** geosync's reply: on a 404, `:status: 307` + absolute `location` (raw_value); otherwise CONTINUE. */
export function redirectingScript(location: (path: string) => string, useValue = false): Script {
  return (m, s) => {
    if (m.request === 'request_headers') return void s.call.write({ request_headers: {} });
    if (m.request !== 'response_headers') return;
    if (header(m, ':status') !== '404') return void s.call.write({ response_headers: {} });
    const path = String(
      m.attributes?.['envoy.filters.http.ext_proc']?.fields?.['request.path']?.stringValue ?? '',
    );
    const set = (key: string, v: string) =>
      useValue ? { header: { key, value: v } } : { header: { key, raw_value: Buffer.from(v) } };
    s.call.write({
      response_headers: {
        response: {
          header_mutation: { set_headers: [set(':status', '307'), set('location', location(path))] },
        },
      },
    });
  };
}

export interface BootstrapOptions {
  registryPort: number;
  siblingPort: number;
  processorPort: number;
  /** Merged into the ext_proc typed_config. */
  extProc?: Record<string, unknown>;
  /** Replaces the local pull route's internal_redirect_policy. */
  policy?: Record<string, unknown>;
  /** Added to the sibling pull route's action (e.g. its own internal_redirect_policy). */
  siblingRoute?: Record<string, unknown>;
  /** Methods the local pull route accepts (regex alternation). */
  methods?: string;
  localTimeout?: string;
  admin?: boolean;
}

export const LOCAL_HOST = 'registry.local';
export const SIBLING_HOST = 'sibling.test';

export function bootstrap(o: BootstrapOptions): Record<string, unknown> {
  const policy = o.policy ?? {
    max_internal_redirects: 1,
    redirect_response_codes: [307],
    response_headers_to_copy: ['x-regional-fallback'],
    predicates: [
      {
        name: 'envoy.internal_redirect_predicates.allow_listed_routes',
        typed_config: {
          '@type':
            'type.googleapis.com/envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig',
          allowed_route_names: ['sibling_pull'],
        },
      },
      {
        name: 'envoy.internal_redirect_predicates.previous_routes',
        typed_config: {
          '@type':
            'type.googleapis.com/envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig',
        },
      },
    ],
  };
  const socket = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  const cluster = (name: string, port: number, extra: Record<string, unknown> = {}) => ({
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(port) } }] }],
    },
    ...extra,
  });
  return {
    ...(o.admin ? { admin: { address: socket(0) } } : {}),
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: socket(0),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    strip_any_host_port: true,
                    route_config: {
                      name: 'routes',
                      // As geosync generates it: the redirect target lookup sees `host:port`.
                      ignore_port_in_host_matching: true,
                      virtual_hosts: [
                        {
                          name: 'local',
                          domains: [LOCAL_HOST],
                          routes: [
                            {
                              name: 'local_pull',
                              match: {
                                safe_regex: { regex: '^/v2/.+/(manifests|blobs)/[^/]+$' },
                                headers: [
                                  {
                                    name: ':method',
                                    string_match: { safe_regex: { regex: `^(${o.methods ?? 'GET|HEAD'})$` } },
                                  },
                                ],
                              },
                              route: {
                                cluster: 'local_registry',
                                timeout: o.localTimeout ?? '5s',
                                internal_redirect_policy: policy,
                              },
                            },
                            {
                              name: 'local_other',
                              match: { prefix: '/' },
                              route: { cluster: 'local_registry' },
                            },
                          ],
                        },
                        {
                          name: 'sibling',
                          domains: [SIBLING_HOST],
                          routes: [
                            {
                              name: 'sibling_pull',
                              match: { prefix: '/v2/' },
                              route: { cluster: 'sibling', timeout: '5s', ...(o.siblingRoute ?? {}) },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        cluster('local_registry', o.registryPort, {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http_protocol_options: {} },
              http_filters: [
                {
                  name: 'envoy.filters.http.ext_proc',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
                    grpc_service: { envoy_grpc: { cluster_name: 'ext_proc_server' } },
                    failure_mode_allow: true,
                    message_timeout: '0.2s',
                    allow_mode_override: true,
                    processing_mode: {
                      request_header_mode: 'SKIP',
                      response_header_mode: 'SEND',
                      request_body_mode: 'NONE',
                      response_body_mode: 'NONE',
                    },
                    response_attributes: ['request.path', 'request.method', 'request.host', 'response.code'],
                    ...(o.extProc ?? {}),
                  },
                },
                {
                  name: 'envoy.filters.http.upstream_codec',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec',
                  },
                },
              ],
            },
          },
        }),
        cluster('sibling', o.siblingPort),
        cluster('ext_proc_server', o.processorPort, {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }),
      ],
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A plain HTTP/1.1 request with an explicit Host (fetch cannot set Host). */
export function request(
  base: string,
  path: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path,
        headers: { host: opts.host ?? LOCAL_HOST, ...(opts.headers ?? {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Polls until `check` passes (the stream close happens after the client already has its response). */
export async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
