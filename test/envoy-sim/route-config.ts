/**
 * Reads an HCM `route_config` (envoy.config.route.v3.RouteConfiguration) into the model the
 * simulator routes with: virtual hosts, routes, route actions and internal redirect policies.
 * Defaults follow route_components.proto and router/config_impl.cc.
 */
import {
  BootstrapError,
  type Obj,
  bool,
  durationMs,
  list,
  obj,
  optStr,
  regexMatcher,
  str,
  typeName,
  uint,
} from './proto-values';
import { type HeaderMatcher, parseHeaderMatchers } from './string-matcher';

export type RedirectPredicate =
  | { kind: 'allow_listed_routes'; names: ReadonlySet<string> }
  | { kind: 'previous_routes' }
  | { kind: 'safe_cross_scheme' };

export interface InternalRedirectPolicy {
  maxInternalRedirects: number;
  redirectResponseCodes: ReadonlySet<number>;
  allowCrossSchemeRedirect: boolean;
  responseHeadersToCopy: string[];
  predicates: RedirectPredicate[];
}

export interface HeaderToAdd {
  key: string;
  value: string;
  /** APPEND_IF_EXISTS_OR_ADD | ADD_IF_ABSENT | OVERWRITE_IF_EXISTS_OR_ADD | OVERWRITE_IF_EXISTS */
  action: string;
}

export interface RouteAction {
  kind: 'route';
  cluster: string;
  /** Route `timeout`: default 15 s, 0 = none. */
  timeoutMs: number;
  idleTimeoutMs?: number;
  hostRewriteLiteral?: string;
  autoHostRewrite: boolean;
  prefixRewrite?: string;
  internalRedirectPolicy?: InternalRedirectPolicy;
}

export interface DirectResponseAction {
  kind: 'direct_response';
  status: number;
  body: string;
}

export interface RouteEntry {
  name: string;
  match: {
    prefix?: string;
    path?: string;
    regex?: RegExp;
    caseSensitive: boolean;
    headers: HeaderMatcher[];
  };
  action: RouteAction | DirectResponseAction;
  requestHeadersToAdd: HeaderToAdd[];
  requestHeadersToRemove: string[];
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: RouteEntry[];
  requestHeadersToAdd: HeaderToAdd[];
  requestHeadersToRemove: string[];
}

export interface RouteConfig {
  name: string;
  virtualHosts: VirtualHost[];
  /** `ignore_port_in_host_matching`: virtual-host matching drops the :authority port itself. */
  ignorePortInHostMatching: boolean;
}

/** config_impl.cc buildRedirectResponseCodes: only these codes are kept, others silently dropped. */
const VALID_REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

const PREDICATE_TYPES: Record<string, RedirectPredicate['kind']> = {
  'envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig': 'allow_listed_routes',
  'envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig': 'previous_routes',
  'envoy.extensions.internal_redirect.safe_cross_scheme.v3.SafeCrossSchemeConfig': 'safe_cross_scheme',
};

export function parseRouteConfig(v: unknown, path: string): RouteConfig {
  const rc = obj(v, path);
  return {
    name: str(rc.name, `${path}.name`, ''),
    virtualHosts: list(rc.virtual_hosts, `${path}.virtual_hosts`).map((vh, i) =>
      parseVirtualHost(vh, `${path}.virtual_hosts[${i}]`),
    ),
    ignorePortInHostMatching: bool(
      rc.ignore_port_in_host_matching,
      `${path}.ignore_port_in_host_matching`,
      false,
    ),
  };
}

function parseVirtualHost(v: unknown, path: string): VirtualHost {
  const vh = obj(v, path);
  const domains = list(vh.domains, `${path}.domains`).map((d, i) =>
    str(d, `${path}.domains[${i}]`).toLowerCase(),
  );
  if (domains.length === 0) throw new BootstrapError(`${path}.domains`, 'at least one domain is required');
  return {
    name: str(vh.name, `${path}.name`),
    domains,
    routes: list(vh.routes, `${path}.routes`).map((r, i) => parseRoute(r, `${path}.routes[${i}]`)),
    requestHeadersToAdd: parseHeadersToAdd(vh.request_headers_to_add, `${path}.request_headers_to_add`),
    requestHeadersToRemove: list(vh.request_headers_to_remove, `${path}.request_headers_to_remove`).map((h) =>
      String(h).toLowerCase(),
    ),
  };
}

function parseRoute(v: unknown, path: string): RouteEntry {
  const r = obj(v, path);
  const m = obj(r.match, `${path}.match`);
  const caseSensitive = bool(m.case_sensitive, `${path}.match.case_sensitive`, true);
  const specifiers = ['prefix', 'path', 'safe_regex', 'path_separated_prefix'].filter(
    (k) => m[k] !== undefined,
  );
  if (specifiers.length !== 1)
    throw new BootstrapError(`${path}.match`, 'exactly one of prefix, path, safe_regex is required');
  if (m.path_separated_prefix !== undefined || m.query_parameters !== undefined || m.grpc !== undefined)
    throw new BootstrapError(`${path}.match`, 'path_separated_prefix/query_parameters/grpc are not modelled');
  let action: RouteAction | DirectResponseAction;
  if (r.route !== undefined) action = parseRouteAction(r.route, `${path}.route`);
  else if (r.direct_response !== undefined) {
    const d = obj(r.direct_response, `${path}.direct_response`);
    const body = obj(d.body, `${path}.direct_response.body`);
    action = {
      kind: 'direct_response',
      status: uint(d.status, `${path}.direct_response.status`, 200),
      body: str(body.inline_string, `${path}.direct_response.body.inline_string`, ''),
    };
  } else throw new BootstrapError(path, 'only `route` and `direct_response` actions are modelled');
  return {
    name: str(r.name, `${path}.name`, ''),
    match: {
      prefix: optStr(m.prefix, `${path}.match.prefix`),
      path: optStr(m.path, `${path}.match.path`),
      regex: m.safe_regex !== undefined ? regexMatcher(m.safe_regex, `${path}.match.safe_regex`) : undefined,
      caseSensitive,
      headers: parseHeaderMatchers(m.headers, `${path}.match.headers`),
    },
    action,
    requestHeadersToAdd: parseHeadersToAdd(r.request_headers_to_add, `${path}.request_headers_to_add`),
    requestHeadersToRemove: list(r.request_headers_to_remove, `${path}.request_headers_to_remove`).map((h) =>
      String(h).toLowerCase(),
    ),
  };
}

function parseRouteAction(v: unknown, path: string): RouteAction {
  const a = obj(v, path);
  if (a.cluster === undefined)
    throw new BootstrapError(
      `${path}.cluster`,
      'only a fixed `cluster` is modelled (no weighted_clusters/cluster_header)',
    );
  if (
    a.regex_rewrite !== undefined ||
    a.host_rewrite_header !== undefined ||
    a.host_rewrite_path_regex !== undefined
  )
    throw new BootstrapError(
      path,
      'regex_rewrite/host_rewrite_header/host_rewrite_path_regex are not modelled',
    );
  return {
    kind: 'route',
    cluster: str(a.cluster, `${path}.cluster`),
    timeoutMs: durationMs(a.timeout, `${path}.timeout`) ?? 15_000,
    idleTimeoutMs: durationMs(a.idle_timeout, `${path}.idle_timeout`),
    hostRewriteLiteral: optStr(a.host_rewrite_literal, `${path}.host_rewrite_literal`),
    autoHostRewrite: bool(a.auto_host_rewrite, `${path}.auto_host_rewrite`, false),
    prefixRewrite: optStr(a.prefix_rewrite, `${path}.prefix_rewrite`),
    internalRedirectPolicy:
      a.internal_redirect_policy !== undefined
        ? parseRedirectPolicy(a.internal_redirect_policy, `${path}.internal_redirect_policy`)
        : undefined,
  };
}

function parseRedirectPolicy(v: unknown, path: string): InternalRedirectPolicy {
  const p = obj(v, path);
  const codes = list(p.redirect_response_codes, `${path}.redirect_response_codes`).map((c, i) =>
    uint(c, `${path}.redirect_response_codes[${i}]`, 0),
  );
  const responseHeadersToCopy = list(p.response_headers_to_copy, `${path}.response_headers_to_copy`).map(
    (h, i) => {
      const name = str(h, `${path}.response_headers_to_copy[${i}]`).toLowerCase();
      // config_impl.cc: pseudo-headers and host are rejected at load.
      if (name.startsWith(':') || name === 'host')
        throw new BootstrapError(
          `${path}.response_headers_to_copy[${i}]`,
          `header '${name}' cannot be copied`,
        );
      return name;
    },
  );
  return {
    maxInternalRedirects: uint(p.max_internal_redirects, `${path}.max_internal_redirects`, 1),
    redirectResponseCodes: new Set(
      (codes.length > 0 ? codes : [302]).filter((c) => VALID_REDIRECT_CODES.has(c)),
    ),
    allowCrossSchemeRedirect: bool(
      p.allow_cross_scheme_redirect,
      `${path}.allow_cross_scheme_redirect`,
      false,
    ),
    responseHeadersToCopy,
    predicates: list(p.predicates, `${path}.predicates`).map((pr, i) =>
      parsePredicate(pr, `${path}.predicates[${i}]`),
    ),
  };
}

function parsePredicate(v: unknown, path: string): RedirectPredicate {
  const tc: Obj = obj(obj(v, path).typed_config, `${path}.typed_config`);
  const kind = PREDICATE_TYPES[typeName(tc)];
  if (!kind)
    throw new BootstrapError(`${path}.typed_config`, `unknown predicate type '${String(tc['@type'])}'`);
  if (kind === 'allow_listed_routes') {
    const names = list(tc.allowed_route_names, `${path}.typed_config.allowed_route_names`).map(String);
    return { kind, names: new Set(names) };
  }
  return { kind };
}

function parseHeadersToAdd(v: unknown, path: string): HeaderToAdd[] {
  return list(v, path).map((h, i) => {
    const o = obj(h, `${path}[${i}]`);
    const header = obj(o.header, `${path}[${i}].header`);
    const appendBool = o.append === undefined ? undefined : bool(o.append, `${path}[${i}].append`, true);
    const action =
      optStr(o.append_action, `${path}[${i}].append_action`) ??
      (appendBool === false ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD');
    return {
      key: str(header.key, `${path}[${i}].header.key`).toLowerCase(),
      value: str(header.value, `${path}[${i}].header.value`, ''),
      action,
    };
  });
}
