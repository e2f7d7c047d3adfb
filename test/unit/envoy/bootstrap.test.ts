/**
 * The shape of the generated bootstrap, read as data (fast). That real Envoy accepts it (every
 * option, test/integration/envoy/validate.test.ts) and behaves as these shapes intend is shown by
 * test/integration/envoy/ and the end-to-end suites.
 */
import { ATTRIBUTE } from '../../../src/extproc/headers';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { at, makeConfig, type ConfigShape, type Json } from './support';

function build(shape: ConfigShape): Json {
  return buildBootstrap(makeConfig(shape));
}

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function cluster(b: Json, name: string): Json {
  const clusters = at(b, 'static_resources.clusters') as Json[];
  const found = clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

function upstreamFilters(b: Json): Json[] {
  const options = (cluster(b, 'local_registry').typed_extension_protocol_options as Json)[
    HTTP_OPTIONS
  ] as Json;
  return options.http_filters as Json[];
}

/** The match-delegate wrapper around ext_proc. */
function matchDelegate(b: Json): Json {
  const filter = upstreamFilters(b).find((f) => f.name === 'envoy.filters.http.match_delegate');
  return filter?.typed_config as Json;
}

function extProc(b: Json): Json {
  return at(matchDelegate(b), 'extension_config.typed_config') as Json;
}

describe('ext_proc filter', () => {
  test('cluster-level upstream filter behind a matcher, ending with upstream_codec, fail-open', () => {
    const b = build({ regions: 3 });
    expect(upstreamFilters(b).map((f) => f.name)).toEqual([
      'envoy.filters.http.match_delegate',
      'envoy.filters.http.upstream_codec',
    ]);
    expect(matchDelegate(b)).toMatchObject({
      extension_config: { name: 'envoy.filters.http.ext_proc' },
    });
    expect(extProc(b)).toMatchObject({
      grpc_service: { envoy_grpc: { cluster_name: 'geosync_ext_proc' } },
      failure_mode_allow: true,
      message_timeout: '20s',
      metadata_options: { receiving_namespaces: { untyped: ['geosync'] } },
    });
    // Only a tag list's reply asks for a body (src/extproc/replies.ts, bufferResponseBodyReply).
    expect(extProc(b).allow_mode_override).toBe(true);
    expect(extProc(b).processing_mode).toMatchObject({ response_body_mode: 'NONE' });
    expect(cluster(b, 'local_registry_direct').typed_extension_protocol_options).not.toHaveProperty(
      `${HTTP_OPTIONS}.http_filters`,
    );
  });

  test('one message per stream: the response headers, with the request as response attributes', () => {
    const p = extProc(build({ regions: 2 }));
    expect(p.processing_mode).toEqual({
      request_header_mode: 'SKIP',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    });
    expect(p.response_attributes).toEqual([
      'request.path',
      'request.method',
      "request.headers['x-geosync-forwarded-by']",
      'request.id',
      "request.headers['traceparent']",
      'request.size',
      "request.headers['authorization'].matches('(?i)^bearer ') ? request.headers['authorization'] : ''",
      "request.headers['user-agent']",
      'source.address',
      // A tag list's credential (a GET whose path before the query is a tag list), and nothing
      // for any other request (src/tag-list/list-access.ts).
      "request.method == 'GET' && request.path.matches('^/v2/[^?]+/tags/list(?:[?].*)?$') ? request.headers['authorization'] : ''",
    ]);
  });

  test('with tag lists off, no stream carries a tag list credential attribute', () => {
    const p = extProc(build({ regions: 2, freshness: { tagListMaxStalenessMs: 0 } }));
    expect(p.response_attributes).not.toContain(ATTRIBUTE.tagListAuthorization);
  });

  test('with pushCheckBasicUsers, a Lua filter before ext_proc derives the Basic user-id, a response attribute', () => {
    const b = build({ regions: 2, pushCheckBasicUsers: ['ci-robot'] });
    expect(upstreamFilters(b).map((f) => f.name)).toEqual([
      'envoy.filters.http.lua',
      'envoy.filters.http.match_delegate',
      'envoy.filters.http.upstream_codec',
    ]);
    const lua = at(upstreamFilters(b)[0], 'typed_config') as Json;
    expect(lua['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua');
    const script = at(lua, 'default_source_code.inline_string') as string;
    // A client's copy is removed before Envoy sets its own.
    expect(script.indexOf('headers:remove(HEADER)')).toBeLessThan(
      script.indexOf('headers:add(HEADER, user)'),
    );
    expect(script).toContain('local HEADER = "x-geosync-basic-user"');
    expect(extProc(b).response_attributes).toContain("request.headers['x-geosync-basic-user']");
    // Without the key (the default), neither.
    const plain = build({ regions: 2 });
    expect(upstreamFilters(plain).map((f) => f.name)).not.toContain('envoy.filters.http.lua');
    expect(extProc(plain).response_attributes).not.toContain("request.headers['x-geosync-basic-user']");
  });

  const STATUS_INPUT = 'type.googleapis.com/envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput';
  const status = (code: string) => ({
    single_predicate: { input: { typed_config: { '@type': STATUS_INPUT } }, value_match: { exact: code } },
  });
  /** The predicate whose match sends a response to geosync (the second matcher skips all others). */
  const acts = (envoy: Record<string, unknown> | undefined, freshness?: Record<string, number>) => {
    const matchers = at(
      matchDelegate(build({ regions: 2, ...(envoy ? { envoy } : {}), ...(freshness ? { freshness } : {}) })),
      'xds_matcher.matcher_list.matchers',
    ) as Json[];
    expect(matchers).toHaveLength(2);
    for (const m of matchers) {
      expect(at(m, 'on_match.action.typed_config')).toEqual({
        '@type': 'type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter',
      });
    }
    expect(at(matchers[0], 'predicate.single_predicate.input.typed_config')).toMatchObject({
      header_name: 'x-geosync-forwarded-by',
    });
    return at(matchers[1], 'predicate.not_matcher') as Json;
  };
  const pathRegex = (p: Json) =>
    at(p, 'or_matcher.predicate[1].and_matcher.predicate[1].single_predicate.value_match.safe_regex.regex');

  test('the matcher skips ext_proc for forwarded pulls and every status but 404, and 200s of signature tags', () => {
    const p = acts(undefined);
    expect(at(p, 'or_matcher.predicate[0]')).toMatchObject(status('404'));
    expect(at(p, 'or_matcher.predicate[1].and_matcher.predicate[0]')).toMatchObject(status('200'));
    const regex = new RegExp(String(pathRegex(p)));
    const hex = 'a'.repeat(64);
    for (const tag of [`sha256-${hex}`, `sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`])
      expect(regex.test(`/v2/team/app/manifests/${tag}`)).toBe(true);
    for (const tag of ['v1', `sha256-${hex}.sigx`, `sha256-${hex.slice(1)}`, `sha256:${hex}`])
      expect(regex.test(`/v2/team/app/manifests/${tag}`)).toBe(false);
  });

  test('with every tag checked, 200s of any tag; with none and tag lists off, only 404s', () => {
    const all = new RegExp(String(pathRegex(acts(undefined, { tagMaxStalenessMs: 5000 }))));
    expect(all.test('/v2/team/app/manifests/v1')).toBe(true);
    expect(
      acts(undefined, { tagMaxStalenessMs: 0, signatureTagMaxStalenessMs: 0, tagListMaxStalenessMs: 0 }),
    ).toMatchObject(status('404'));
  });

  test('200s of tag lists (with or without a query) reach geosync unless tag lists are off', () => {
    const p = acts(undefined);
    expect(at(p, 'or_matcher.predicate[2].and_matcher.predicate[0]')).toMatchObject(status('200'));
    const regex = new RegExp(
      String(
        at(
          p,
          'or_matcher.predicate[2].and_matcher.predicate[1].single_predicate.value_match.safe_regex.regex',
        ),
      ),
    );
    for (const path of ['/v2/team/app/tags/list', '/v2/team/app/tags/list?n=10&last=v1'])
      expect(regex.test(path)).toBe(true);
    for (const path of ['/v2/team/app/tags/listx', '/v2/_catalog', '/v2/team/app/manifests/list'])
      expect(regex.test(path)).toBe(false);
    const off = acts(undefined, { tagListMaxStalenessMs: 0 });
    expect(at(off, 'or_matcher.predicate')).toHaveLength(2);
    const routes = (b: Json) =>
      (at(b, `${HCM}.route_config.virtual_hosts[0].routes`) as Json[]).map((r) => r.name);
    expect(routes(build({ regions: 2, freshness: { tagListMaxStalenessMs: 0 } }))).not.toContain(
      'local_tag_list',
    );
  });

  test('ext_proc cluster is HTTP/2 to listen.grpc (tcp and unix)', () => {
    const tcp = cluster(build({ regions: 2, grpc: '0.0.0.0:7000' }), 'geosync_ext_proc');
    expect(at(tcp, 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address')).toEqual({
      socket_address: { address: '127.0.0.1', port_value: 7000 },
    });
    expect((tcp.typed_extension_protocol_options as Json)[HTTP_OPTIONS]).toMatchObject({
      explicit_http_config: { http2_protocol_options: {} },
    });
    const unix = cluster(build({ regions: 2, grpc: 'unix:/run/g.sock' }), 'geosync_ext_proc');
    expect(at(unix, 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address')).toEqual({
      pipe: { path: '/run/g.sock' },
    });
  });
});

describe('circuit breakers sized for a herd', () => {
  const thresholds = (c: Json) => at(c, 'circuit_breakers.thresholds[0]');

  test('registry clusters queue a herd: 1024 connections, 65,536 pending and requests', () => {
    const b = build({ regions: 3 });
    for (const name of ['local_registry', 'local_registry_direct', 'sibling_b', 'sibling_c']) {
      expect(thresholds(cluster(b, name))).toEqual({
        priority: 'DEFAULT',
        max_connections: 1024,
        max_pending_requests: 65_536,
        max_requests: 65_536,
        max_retries: 3,
      });
    }
  });

  test("the ext_proc cluster never limits below the local registry cluster's requests", () => {
    expect(thresholds(cluster(build({ regions: 2 }), 'geosync_ext_proc'))).toEqual({
      priority: 'DEFAULT',
      max_connections: 1024,
      max_pending_requests: 65_536,
      max_requests: 65_536,
    });
  });
});

describe('routes and internal redirects', () => {
  test('pull routes follow only 307, once, to sibling routes; catch-all never redirects', () => {
    const b = build({ regions: 3, scheme: 'http' });
    const routes = at(b, `${HCM}.route_config.virtual_hosts[0].routes`) as Json[];
    expect(routes.map((r) => r.name)).toEqual([
      'local_pull_manifests',
      'local_pull_blobs',
      'local_tag_list',
      'local_other',
    ]);
    for (const r of routes.slice(0, 2)) {
      expect(at(r, 'route.cluster')).toBe('local_registry');
      expect(at(r, 'route.internal_redirect_policy')).toMatchObject({
        max_internal_redirects: 1,
        redirect_response_codes: [307],
        response_headers_to_copy: ['x-geosync-redirect'],
        predicates: [
          { typed_config: { allowed_route_names: ['sibling_b_pull', 'sibling_c_pull'] } },
          { name: 'envoy.internal_redirect_predicates.previous_routes' },
        ],
      });
      expect(at(r, 'route.internal_redirect_policy.allow_cross_scheme_redirect')).toBeUndefined();
    }
    expect(at(routes[1], 'match.headers[0].string_match')).toEqual({ exact: 'GET' });
    // Tag lists go through the pull cluster (geosync merges them) and are never redirected.
    expect(routes[2]).toMatchObject({
      match: { safe_regex: { regex: '^/v2/.+/tags/list$' }, headers: [{ string_match: { exact: 'GET' } }] },
      route: { cluster: 'local_registry' },
    });
    expect(at(routes[2], 'route.internal_redirect_policy')).toBeUndefined();
    expect(routes[3]).toMatchObject({ match: { prefix: '/' }, route: { cluster: 'local_registry_direct' } });
    expect(at(routes[3], 'route.internal_redirect_policy')).toBeUndefined();
  });

  test('plain-http listener with https siblings allows the cross-scheme redirect', () => {
    const b = build({ regions: 2, scheme: 'https' });
    expect(
      at(
        b,
        `${HCM}.route_config.virtual_hosts[0].routes[0].route.internal_redirect_policy.allow_cross_scheme_redirect`,
      ),
    ).toBe(true);
  });

  test('one virtual host, route and TLS cluster per sibling', () => {
    const b = build({ regions: 3 });
    const vhosts = at(b, `${HCM}.route_config.virtual_hosts`) as Json[];
    expect(vhosts.map((v) => [v.name, v.domains])).toEqual([
      ['local', ['*']],
      ['sibling_b', ['registry-b.example.com']],
      ['sibling_c', ['registry-c.example.com']],
    ]);
    expect(at(vhosts[1], 'routes[0]')).toMatchObject({
      name: 'sibling_b_pull',
      route: { cluster: 'sibling_b', host_rewrite_literal: 'registry-b.example.com', timeout: '0s' },
      request_headers_to_remove: ['x-geosync-redirect'],
      request_headers_to_add: [
        {
          header: { key: 'x-geosync-forwarded-by', value: 'a' },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      ],
    });
    // Only requests Envoy redirected carry the marker: the listener strips any a client sends.
    expect(at(vhosts[1], 'routes[0].match.headers[1]')).toEqual({
      name: 'x-geosync-redirect',
      present_match: true,
    });
    expect(at(b, `${HCM}.early_header_mutation_extensions[0].typed_config.mutations`)).toEqual([
      { remove: 'x-geosync-redirect' },
      // A client-sent Basic user-id never reaches a registry or geosync (basic-user-filter.ts).
      { remove: 'x-geosync-basic-user' },
    ]);
    const sibling = cluster(b, 'sibling_b');
    expect(sibling).toMatchObject({ type: 'LOGICAL_DNS', connect_timeout: '2s' });
    expect(at(sibling, 'transport_socket.typed_config.sni')).toBe('registry-b.example.com');
    expect(
      at(sibling, 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address'),
    ).toEqual({
      address: 'registry-b.example.com',
      port_value: 443,
    });
  });

  test('distinct hosts: virtual hosts ignore the port (also for redirect targets); the Host header keeps it', () => {
    const b = build({ regions: 2 });
    expect(at(b, `${HCM}.route_config.ignore_port_in_host_matching`)).toBe(true);
    expect(at(b, `${HCM}.strip_any_host_port`)).toBeUndefined();
  });

  test('regions sharing a host match on host:port and keep ports', () => {
    const b = build({ regions: 2, scheme: 'http', loopback: true });
    expect(at(b, `${HCM}.strip_any_host_port`)).toBeUndefined();
    expect(at(b, `${HCM}.route_config.ignore_port_in_host_matching`)).toBeUndefined();
    expect(at(b, `${HCM}.route_config.virtual_hosts[1].domains`)).toEqual(['127.0.0.1:18081']);
    expect(cluster(b, 'sibling_b')).toMatchObject({ type: 'STATIC' });
    expect(cluster(b, 'sibling_b').transport_socket).toBeUndefined();
  });

  test("access log: JSON (values escaped), with geosync's decision and the routed path", () => {
    const b = build({ regions: 2 });
    const fields = at(b, `${HCM}.access_log[0].typed_config.log_format.json_format`) as Json;
    expect(fields).toMatchObject({
      geosync: '%DYNAMIC_METADATA(geosync:outcome)%',
      path: '%REQ(:PATH):256%',
      request_id: '%REQ(X-REQUEST-ID):256%',
    });
    expect(JSON.stringify(fields)).not.toContain('ORIGINAL-PATH');
  });
});

describe('client listener', () => {
  test("idle client connections are closed after 120 s, not Envoy's default hour; configurable", () => {
    expect(at(build({ regions: 2 }), `${HCM}.common_http_protocol_options`)).toEqual({
      idle_timeout: '120s',
      headers_with_underscores_action: 'DROP_HEADER',
    });
    const b = build({ regions: 2, envoy: { listener: { idleTimeoutMs: 2500 } } });
    expect(at(b, `${HCM}.common_http_protocol_options.idle_timeout`)).toBe('2.5s');
  });
});
