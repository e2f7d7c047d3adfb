/**
 * Names of everything in the generated bootstrap, in one place: operators grep their stats and
 * dashboards for them, the tests read Envoy's admin stats by them, and the internal-redirect
 * allow-list must name exactly the sibling routes. Region names are already restricted to
 * [a-z0-9-] by the config validator, so they are safe inside Envoy names and stat prefixes.
 */

export const NAMES = {
  listener: 'registry_ingress',
  routeConfig: 'registry_routes',
  hcmStatPrefix: 'registry_ingress',
  localVirtualHost: 'local',
  /** GET/HEAD manifests and GET blobs: ext_proc may turn the 404 into a 307 to a sibling. */
  localPullManifestsRoute: 'local_pull_manifests',
  localPullBlobsRoute: 'local_pull_blobs',
  localTagListRoute: 'local_tag_list',
  /** Everything else (pushes, blob HEADs, /v2/, catalog): never redirected. */
  localOtherRoute: 'local_other',
  /** Cluster with geosync as upstream ext_proc filter; only the pull routes use it. */
  localRegistryCluster: 'local_registry',
  /** Same registry without ext_proc, so pushes never wait on geosync. */
  localRegistryDirectCluster: 'local_registry_direct',
  extProcCluster: 'geosync_ext_proc',
} as const;

export function siblingVirtualHost(region: string): string {
  return `sibling_${region}`;
}

export function siblingRoute(region: string): string {
  return `sibling_${region}_pull`;
}

export function siblingCluster(region: string): string {
  return `sibling_${region}`;
}

/** Extension names (the `name` Envoy logs) and the `@type` of their typed_config. */
export const EXT = {
  hcm: 'envoy.filters.network.http_connection_manager',
  router: 'envoy.filters.http.router',
  extProc: 'envoy.filters.http.ext_proc',
  upstreamCodec: 'envoy.filters.http.upstream_codec',
  matchDelegate: 'envoy.filters.http.match_delegate',
  earlyHeaderMutation: 'envoy.http.early_header_mutation.header_mutation',
  tls: 'envoy.transport_sockets.tls',
  fileAccessLog: 'envoy.access_loggers.file',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  allowListedRoutes: 'envoy.internal_redirect_predicates.allow_listed_routes',
  previousRoutes: 'envoy.internal_redirect_predicates.previous_routes',
  downstreamConnections: 'envoy.resource_monitors.global_downstream_max_connections',
  lua: 'envoy.filters.http.lua',
} as const;

const T = 'type.googleapis.com/';
export const TYPE = {
  hcm: `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  router: `${T}envoy.extensions.filters.http.router.v3.Router`,
  extProc: `${T}envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor`,
  upstreamCodec: `${T}envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec`,
  extensionWithMatcher: `${T}envoy.extensions.common.matching.v3.ExtensionWithMatcher`,
  skipFilter: `${T}envoy.extensions.filters.common.matcher.action.v3.SkipFilter`,
  statusCodeInput: `${T}envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput`,
  requestHeaderInput: `${T}envoy.type.matcher.v3.HttpRequestHeaderMatchInput`,
  earlyHeaderMutation: `${T}envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation`,
  upstreamTls: `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
  downstreamTls: `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
  fileAccessLog: `${T}envoy.extensions.access_loggers.file.v3.FileAccessLog`,
  httpProtocolOptions: `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
  allowListedRoutes: `${T}envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig`,
  previousRoutes: `${T}envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig`,
  downstreamConnections: `${T}envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig`,
  lua: `${T}envoy.extensions.filters.http.lua.v3.Lua`,
} as const;

/** Duration in Envoy's JSON form ("0.25s"); https://protobuf.dev/programming-guides/json/ */
export function duration(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
}
