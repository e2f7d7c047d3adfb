/**
 * geosync as an upstream ext_proc filter of the local-registry pull cluster: it sees the registry's
 * response headers of a 404, of a 200 to a tag it checks for freshness, and of a 200 to a tag list
 * (whose body it then asks for: src/extproc/replies.ts, bufferResponseBodyReply).
 * References:
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/match_delegate_filter
 */
import { NOT_FOUND, OK } from '../decide/decision';
import { ATTRIBUTE, HEADER, TAG_LIST_PATH } from '../extproc/headers';
import { REFERRER_TAG_PATTERN, TAG_PATTERN } from '../oci/reference';
import { METADATA_NAMESPACE } from '../extproc/replies';
import { basicUserFilter } from './basic-user-filter';
import { duration, EXT, NAMES, TYPE } from './names';
import type { EnvoyOptions } from '../config/types';

type Json = Record<string, unknown>;

/**
 * A manifest by tag (a digest reference has a `:`), with or without a query. RE2, full match.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
const TAG_MANIFEST_PATH = `^/v2/.+/manifests/${TAG_PATTERN}(?:\\?.*)?$`;
/** The same, for signature and attestation tags only (src/oci/reference.ts, REFERRER_TAG_PATTERN). */
const REFERRER_TAG_MANIFEST_PATH = `^/v2/.+/manifests/${REFERRER_TAG_PATTERN}(?:\\?.*)?$`;

export interface UpstreamFilterOptions {
  /**
   * Which local 200s of manifests by tag reach geosync (src/tag-freshness/bound.ts): every tag's
   * (`freshness.tagMaxStalenessMs` > 0), only signature and attestation tags' (the default), or none.
   */
  readonly tagFreshness: 'all' | 'referrers' | 'none';
  /** Local 200s of tag lists reach geosync too (`freshness.tagListMaxStalenessMs` > 0, src/tag-list/). */
  readonly tagLists?: boolean;
  /**
   * geosync is told the user-id of Basic credentials (`pushCheckBasicUsers` names any): the Lua
   * filter that derives it runs first, and its header is a response attribute.
   */
  readonly basicUsers?: boolean;
}

/** The cluster's upstream HTTP filter chain: ext_proc behind its matcher, then the codec. */
export function upstreamFilters(opts: EnvoyOptions, filter: UpstreamFilterOptions): Json[] {
  return [
    ...(filter.basicUsers ? [basicUserFilter()] : []),
    { name: EXT.matchDelegate, typed_config: onlyWhenGeosyncActs(extProcConfig(opts, filter), filter) },
    { name: EXT.upstreamCodec, typed_config: { '@type': TYPE.upstreamCodec } },
  ];
}

/** The geosync statuses: 404 rescued; 200 checked for tag freshness. Every other skips the filter. */
const status = (code: typeof NOT_FOUND | typeof OK): Json => ({
  single_predicate: {
    input: { name: 'status', typed_config: { '@type': TYPE.statusCodeInput } },
    value_match: { exact: code },
  },
});

/** A request header whose value matches `regex` (RE2, full match). */
const requestHeader = (name: string, header: string, regex: string): Json => ({
  single_predicate: {
    input: { name, typed_config: { '@type': TYPE.requestHeaderInput, header_name: header } },
    value_match: { safe_regex: { google_re2: {}, regex } },
  },
});

/**
 * The match-delegate filter skips ext_proc (no gRPC stream at all) unless the registry answered
 * 404 to a request no other region has redirected yet (or 200 to a GET or HEAD of a manifest by a
 * tag that is checked for freshness: by default only signature and attestation tags). A local hit, the common case, costs no round trip to geosync. The
 * response status is unknown while the request goes out, so the matcher cannot decide then and
 * the wrapped filter's request path runs; with request headers SKIP that opens no stream. The
 * decision falls on the response headers.
 */
function onlyWhenGeosyncActs(extProc: Json, filter: UpstreamFilterOptions): Json {
  const skip = { name: 'skip', typed_config: { '@type': TYPE.skipFilter } };
  const okFor = (path: string) => ({
    and_matcher: { predicate: [status(OK), requestHeader('path', HEADER.path, path)] },
  });
  const okPaths = [
    ...(filter.tagFreshness === 'none'
      ? []
      : [okFor(filter.tagFreshness === 'all' ? TAG_MANIFEST_PATH : REFERRER_TAG_MANIFEST_PATH)]),
    // A 401 or 403 of a tag list never reaches geosync: authorization stays the local registry's.
    ...(filter.tagLists ? [okFor(TAG_LIST_PATH)] : []),
  ];
  const acts =
    okPaths.length === 0 ? status(NOT_FOUND) : { or_matcher: { predicate: [status(NOT_FOUND), ...okPaths] } };
  return {
    '@type': TYPE.extensionWithMatcher,
    extension_config: { name: EXT.extProc, typed_config: extProc },
    xds_matcher: {
      matcher_list: {
        matchers: [
          { predicate: requestHeader('forwarded_by', HEADER.forwardedBy, '.*'), on_match: { action: skip } },
          { predicate: { not_matcher: acts }, on_match: { action: skip } },
        ],
      },
    },
  };
}

function extProcConfig(opts: EnvoyOptions, filter: UpstreamFilterOptions): Json {
  return {
    '@type': TYPE.extProc,
    grpc_service: { envoy_grpc: { cluster_name: NAMES.extProcCluster } },
    // geosync down, slow or erroring must never fail a pull: the original 404 passes unchanged.
    failure_mode_allow: true,
    message_timeout: duration(opts.extProc.messageTimeoutMs),
    // A tag list's body is asked for by the reply to its headers (src/extproc/replies.ts,
    // bufferResponseBodyReply); nothing else ever sends a body to geosync.
    allow_mode_override: true,
    // No stat_prefix: there is one ext_proc filter per cluster, so its counters are
    // `cluster.local_registry.ext_proc.<counter>` (envoy/README.md lists them per Envoy release).
    processing_mode: {
      // One message per stream: the response headers, with the request described by
      // `response_attributes` (request-header attributes on the encode path need Envoy >= 1.37,
      // changelogs/1.37.0.yaml).
      request_header_mode: 'SKIP',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    },
    // request.id and traceparent let geosync log the request id and join the client's trace; a
    // bearer token, the user agent and a Basic user-id tell a pusher from a puller
    // (src/oci/pull.ts); the source address keeps one client from taking the whole lookup window
    // (src/locate/admission.ts); a tag list's credential asks the siblings whether they would list
    // it to this client (src/tag-list/list-access.ts).
    response_attributes: [
      ATTRIBUTE.path,
      ATTRIBUTE.method,
      ATTRIBUTE.forwardedBy,
      ATTRIBUTE.requestId,
      ATTRIBUTE.traceparent,
      ATTRIBUTE.bodySize,
      ATTRIBUTE.bearer,
      ATTRIBUTE.userAgent,
      ATTRIBUTE.sourceAddress,
      ...(filter.basicUsers ? [ATTRIBUTE.basicUser] : []),
      // Only when tag lists are merged: otherwise no stream needs it, and Envoy would evaluate
      // its condition on every one.
      ...(filter.tagLists ? [ATTRIBUTE.tagListAuthorization] : []),
    ],
    // Lets geosync's decision reach the access log: %DYNAMIC_METADATA(geosync:outcome)%.
    metadata_options: { receiving_namespaces: { untyped: [METADATA_NAMESPACE] } },
  };
}
