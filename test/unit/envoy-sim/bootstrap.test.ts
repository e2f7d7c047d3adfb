/** Reading the bootstrap: the generated shape, defaults, and load-time rejections with key paths. */
import { readBootstrap } from '../../envoy-sim/bootstrap';
import { resolveKnobs } from '../../envoy-sim/knobs';
import { bootstrap } from './fixtures';

const EXAMPLE = `
admin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }
static_resources:
  listeners:
  - name: registry_ingress
    address: { socket_address: { address: 0.0.0.0, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          strip_any_host_port: true
          route_config:
            name: registry_routes
            virtual_hosts:
            - name: local
              domains: ["registry.local.example"]
              routes:
              - name: local_pull
                match:
                  safe_regex: { regex: "^/v2/.+/(manifests|blobs)/[^/]+$" }
                  headers:
                  - name: ":method"
                    string_match: { safe_regex: { regex: "^(GET|HEAD)$" } }
                route:
                  cluster: local_registry
                  timeout: 0s
                  idle_timeout: 60s
                  internal_redirect_policy:
                    max_internal_redirects: 1
                    redirect_response_codes: [307, 200]
                    allow_cross_scheme_redirect: true
                    predicates:
                    - name: envoy.internal_redirect_predicates.allow_listed_routes
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig
                        allowed_route_names: ["sibling_eu_west_pull"]
            - name: sibling_eu_west
              domains: ["registry.eu-west.example"]
              routes:
              - name: sibling_eu_west_pull
                match: { prefix: "/v2/" }
                route: { cluster: sibling_eu_west, timeout: 0s, idle_timeout: 60s, host_rewrite_literal: registry.eu-west.example }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: local_registry
    type: STRICT_DNS
    connect_timeout: 2s
    load_assignment:
      cluster_name: local_registry
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: registry-local, port_value: 5000 } } } }] }]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http_protocol_options: {} }
        http_filters:
        - name: envoy.filters.http.ext_proc
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
            grpc_service: { envoy_grpc: { cluster_name: ext_proc_server } }
            failure_mode_allow: true
            message_timeout: 0.5s
            processing_mode: { request_header_mode: SKIP, response_header_mode: SEND }
            response_attributes: ["request.path", "response.code"]
        - name: envoy.filters.http.upstream_codec
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec
  - name: sibling_eu_west
    type: LOGICAL_DNS
    connect_timeout: 2s
    load_assignment:
      cluster_name: sibling_eu_west
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: registry.eu-west.example, port_value: 443 } } } }] }]
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: registry.eu-west.example
  - name: ext_proc_server
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: ext_proc_server
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: /run/geosync.sock } } } }] }]
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
`;

describe('readBootstrap', () => {
  it('reads the generated shape: listener, routes, redirect policy, upstream ext_proc, TLS, pipe', () => {
    const b = readBootstrap(EXAMPLE);
    expect(b.admin?.address).toEqual({ kind: 'socket', host: '127.0.0.1', port: 9901 });
    const hcm = b.listeners[0]?.hcm;
    expect(hcm?.stripAnyHostPort).toBe(true);
    const pull = hcm?.routeConfig.virtualHosts[0]?.routes[0];
    expect(pull?.action.kind).toBe('route');
    if (pull?.action.kind !== 'route') return;
    expect(pull.action.timeoutMs).toBe(0);
    expect(pull.action.idleTimeoutMs).toBe(60_000);
    // Invalid codes are dropped silently (config_impl.cc buildRedirectResponseCodes).
    expect([...(pull.action.internalRedirectPolicy?.redirectResponseCodes ?? [])]).toEqual([307]);
    const ep = b.clusters.get('local_registry')?.extProc;
    expect(ep).toMatchObject({
      grpcCluster: 'ext_proc_server',
      failureModeAllow: true,
      messageTimeoutMs: 500,
    });
    expect(ep?.processingMode).toMatchObject({
      request_header_mode: 'SKIP',
      response_header_mode: 'SEND',
      response_trailer_mode: 'DEFAULT',
    });
    expect(b.clusters.get('sibling_eu_west')?.tls).toEqual({
      sni: 'registry.eu-west.example',
      autoSni: false,
      verify: false,
    });
    expect(b.clusters.get('ext_proc_server')?.endpoints[0]).toEqual({
      kind: 'pipe',
      path: '/run/geosync.sock',
    });
    expect(b.clusters.get('ext_proc_server')?.http2).toBe(true);
  });

  it('applies defaults: route timeout 15s, redirect codes {302}, max 1, message_timeout 200ms', () => {
    const o = bootstrap({
      registryPort: 1,
      siblingPort: 2,
      processorPort: 3,
      policy: {},
      extProc: { message_timeout: undefined },
    });
    const b = readBootstrap(o);
    const routes = b.listeners[0]?.hcm.routeConfig.virtualHosts[0]?.routes ?? [];
    const other = routes[1]?.action;
    expect(other?.kind === 'route' && other.timeoutMs).toBe(15_000);
    const pull = routes[0]?.action;
    if (pull?.kind !== 'route') throw new Error('route expected');
    expect([...(pull.internalRedirectPolicy?.redirectResponseCodes ?? [])]).toEqual([302]);
    expect(pull.internalRedirectPolicy?.maxInternalRedirects).toBe(1);
    expect(b.clusters.get('local_registry')?.extProc?.messageTimeoutMs).toBe(200);
  });

  it.each([
    [
      'a body mode other than NONE',
      { extProc: { processing_mode: { response_body_mode: 'BUFFERED' } } },
      /processing_mode\.response_body_mode: body mode BUFFERED is not modelled/,
    ],
    [
      'a bad enum value',
      { extProc: { processing_mode: { response_header_mode: 'SENDD' } } },
      /bad HeaderSendMode 'SENDD'/,
    ],
    [
      'an unknown predicate type',
      { policy: { predicates: [{ name: 'p', typed_config: { '@type': 'type.googleapis.com/x.Y' } }] } },
      /predicates\[0\]\.typed_config: unknown predicate type/,
    ],
    [
      'a pseudo-header in response_headers_to_copy',
      { policy: { response_headers_to_copy: [':status'] } },
      /cannot be copied/,
    ],
    [
      'a dangling ext_proc cluster',
      { extProc: { grpc_service: { envoy_grpc: { cluster_name: 'nope' } } } },
      /unknown gRPC cluster 'nope'/,
    ],
  ])('rejects %s with the key path', (_label, o, message) => {
    expect(() =>
      readBootstrap(bootstrap({ registryPort: 1, siblingPort: 2, processorPort: 3, ...o })),
    ).toThrow(message);
  });

  it('rejects a route to an unknown cluster', () => {
    expect(() => readBootstrap(EXAMPLE.replace('cluster: sibling_eu_west,', 'cluster: missing,'))).toThrow(
      /unknown cluster 'missing'/,
    );
  });
});

describe('knobs', () => {
  it('derives version differences from envoyVersion; explicit values win', () => {
    expect(resolveKnobs({ envoyVersion: '1.31' })).toMatchObject({
      sendRawValue: true,
      streamCloseOptimization: false,
      encodeOnlyAttributesFix: false,
      upstreamImmediateResponse: false,
      timeoutStatus: 500,
      spuriousFailClose: false,
      modeOverrideDefaultUnchanged: false,
    });
    expect(resolveKnobs({ envoyVersion: '1.37' })).toMatchObject({
      streamCloseOptimization: true,
      encodeOnlyAttributesFix: true,
      timeoutStatus: 504,
      spuriousFailClose: true,
      modeOverrideDefaultUnchanged: true,
    });
    expect(resolveKnobs({ envoyVersion: '1.37', sendRawValue: false }).sendRawValue).toBe(false);
    expect(() => resolveKnobs({ envoyVersion: 'latest' })).toThrow(/1\.NN/);
  });
});
