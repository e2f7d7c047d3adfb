/**
 * Header values as Envoy sends them. Since Envoy 1.27 (runtime guard `send_header_raw_value`,
 * default true) values arrive in `raw_value` (bytes) with `value` empty, and Envoy reads only
 * `raw_value` from mutations: a mutation written to `value` is silently ignored
 * (envoyproxy/envoy#31555). Older Envoys send `value`. So: read raw_value, fall back to value;
 * write raw_value only.
 */
import type { HeaderMap__Output } from '../generated/envoy/config/core/v3/HeaderMap';
import type { HeaderValueOption } from '../generated/envoy/config/core/v3/HeaderValueOption';
import type { Struct__Output } from '../generated/google/protobuf/Struct';

export const HEADER = {
  status: ':status',
  method: ':method',
  path: ':path',
  location: 'location',
  link: 'link',
  contentType: 'content-type',
  contentLength: 'content-length',
  /** The registry's digest of what it answered (distribution spec, "Docker-Content-Digest"). */
  contentDigest: 'docker-content-digest',
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  /**
   * Set by geosync on its 307 and copied by the router into the redirected request
   * (`internal_redirect_policy.response_headers_to_copy`); the sibling routes require it, and the
   * listener removes it from every client request before routing, so only a request Envoy itself
   * redirected can reach a sibling route (src/envoy/routes.ts).
   */
  redirectMarker: 'x-geosync-redirect',
  /**
   * Added by the sibling route to the request it forwards: the sibling's Envoy and geosync see a
   * pull that another region already redirected, and never redirect it again (no chains, no loops).
   */
  forwardedBy: 'x-geosync-forwarded-by',
  authorization: 'authorization',
  userAgent: 'user-agent',
  /**
   * The user-id of the client's `Authorization: Basic` credentials, never the password: set by
   * Envoy's Lua filter on the pull cluster, which first removes any copy a client sent
   * (src/envoy/basic-user-filter.ts).
   */
  basicUser: 'x-geosync-basic-user',
} as const;

/** How much of a client-sent value (its request id) geosync keeps; Envoy's access log cuts alike. */
export const MAX_CLIENT_VALUE_LENGTH = 256;

/** Header map with lower-case names; repeated headers keep the first value. */
export function readHeaders(map: HeaderMap__Output | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of map?.headers ?? []) {
    if (!h || typeof h.key !== 'string') continue;
    const key = h.key.toLowerCase();
    if (out.has(key)) continue;
    const raw = h.raw_value && h.raw_value.length > 0 ? Buffer.from(h.raw_value).toString('latin1') : '';
    out.set(key, raw !== '' ? raw : (h.value ?? ''));
  }
  return out;
}

/** A set-header mutation in the form Envoy reads: raw_value only, `append` unset (= overwrite). */
export function setHeader(key: string, value: string): HeaderValueOption {
  return { header: { key, raw_value: Buffer.from(value, 'latin1') } };
}

/**
 * A tag list's path, with or without a query (`n`, `last`): RE2, full match, for Envoy's matcher
 * (src/envoy/ext-proc-filter.ts) and the tag-list credential attribute below. The repository part
 * stops at the query, so a pull whose query merely contains `/tags/list` is no tag list. No
 * backslash, so that it reads the same inside a CEL string.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
 */
export const TAG_LIST_PATH = '^/v2/[^?]+/tags/list(?:[?].*)?$';

/** The attribute map Envoy attaches to the first message of a direction (key is fixed by Envoy). */
export const ATTRIBUTES_KEY = 'envoy.filters.http.ext_proc';

export const ATTRIBUTE = {
  path: 'request.path',
  method: 'request.method',
  /** CEL map lookup; present only when the request carries the header (else evaluation fails and it is omitted). */
  forwardedBy: "request.headers['x-geosync-forwarded-by']",
  /** Envoy's request id (x-request-id) and the W3C trace context, to join the client's trace. */
  requestId: 'request.id',
  /** Bytes of request body (Envoy attributes: "request.size"); a pull has none. */
  bodySize: 'request.size',
  traceparent: "request.headers['traceparent']",
  /**
   * The downstream client (`ip:port`, or `[ipv6]:port`), after `xff_num_trusted_hops`: the unit of
   * fairness of the lookup window (src/locate/admission.ts).
   */
  sourceAddress: 'source.address',
  /** Copy tools whose manifest HEAD is an existence check (PullPolicy.pushCheckUserAgents). */
  userAgent: "request.headers['user-agent']",
  /**
   * The client's bearer token, for the push access it names (src/oci/push-access.ts). A CEL
   * conditional, so that Basic credentials (a password) of a pull never leave Envoy: they evaluate
   * to '' (a tag list's credential is another attribute, `tagListAuthorization`).
   * The scheme is matched without case (RFC 9110 §11.1), `(?i)` in RE2, as the registry reads it.
   * Never logged or kept: the stream reads the repositories out of it, and passes it to lookups of
   * siblings asked with the client's own credentials (`regions[].registry.credentials: client`).
   */
  bearer: "request.headers['authorization'].matches('(?i)^bearer ') ? request.headers['authorization'] : ''",
  /**
   * The Basic user-id Envoy derived (HEADER.basicUser), for PullPolicy.pushCheckBasicUsers; present
   * only when the generated filter set it (a CEL lookup of an absent header fails and is omitted).
   */
  basicUser: "request.headers['x-geosync-basic-user']",
  /**
   * The client's credential of a tag list, and of nothing else (a CEL conditional: '' for every
   * other request; omitted when the list carries none): each sibling is asked with it whether it
   * would list the repository to this client (src/tag-list/list-access.ts). Never logged or kept:
   * the cache holds a keyed hash of it.
   */
  tagListAuthorization: `request.method == 'GET' && request.path.matches('${TAG_LIST_PATH}') ? request.headers['authorization'] : ''`,
} as const;

/** Reads the string and bool attributes Envoy evaluated for this message. */
export function readAttributes(attributes: Record<string, Struct__Output> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const fields = attributes?.[ATTRIBUTES_KEY]?.fields ?? {};
  for (const [k, v] of Object.entries(fields)) {
    if (!v) continue;
    // google.protobuf.Value comes from protobufjs's built-in descriptor, whose field names are
    // camelCase even with keepCase (the generated type says so too).
    if (typeof v.stringValue === 'string') out.set(k, v.stringValue);
    else if (typeof v.numberValue === 'number') out.set(k, String(v.numberValue));
    else if (typeof v.boolValue === 'boolean') out.set(k, String(v.boolValue));
  }
  return out;
}

/** `10.0.0.7:53122` → `10.0.0.7`, `[2001:db8::1]:443` → `2001:db8::1`; anything else as sent (cut). */
export function clientAddress(sourceAddress: string | undefined): string | undefined {
  if (!sourceAddress) return undefined;
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(sourceAddress);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(sourceAddress);
  return (v4 ? (v4[1] as string) : sourceAddress).slice(0, MAX_CLIENT_VALUE_LENGTH);
}
