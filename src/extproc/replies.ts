/**
 * Builders for the replies geosync sends. Each sets exactly the fields Envoy needs, so the
 * stream code never assembles protobuf objects by hand.
 * Reference: envoy/service/ext_proc/v3/external_processor.proto (ProcessingResponse).
 */
import type { ProcessingResponse } from '../generated/envoy/service/ext_proc/v3/ProcessingResponse';
import type { Struct } from '../generated/google/protobuf/Struct';
import type { DecisionRecord } from '../decide/decision';
import { HEADER, setHeader } from './headers';

export type Phase =
  | 'request_headers'
  | 'response_headers'
  | 'request_body'
  | 'response_body'
  | 'request_trailers'
  | 'response_trailers';

/** A plain CONTINUE of the matching kind: the message passes unchanged. */
export function continueReply(phase: Phase): ProcessingResponse {
  return { [phase]: {} } as ProcessingResponse;
}

/**
 * CONTINUE for request headers that also tells Envoy to skip the response-headers round trip for
 * this request (honoured when the filter has `allow_mode_override: true`). The other modes are left
 * at their defaults: before Envoy 1.34 an override replaced the whole mode, and the defaults
 * (body NONE, trailers SKIP) are what geosync configures anyway.
 */
export function continueSkippingResponse(): ProcessingResponse {
  return { request_headers: {}, mode_override: { response_header_mode: 'SKIP' } };
}

/**
 * Turns the 404 into a 307 to the sibling. `:status` and `location` are allowed by Envoy's default
 * header-mutation rules; `append` stays unset, which Envoy reads as overwrite. The marker is what
 * lets the redirected request match a sibling route (HEADER.redirectMarker).
 */
export function redirectReply(location: string, record: DecisionRecord): ProcessingResponse {
  return {
    response_headers: {
      response: {
        status: 'CONTINUE',
        header_mutation: {
          set_headers: [
            setHeader(HEADER.status, '307'),
            setHeader(HEADER.location, location),
            setHeader(HEADER.redirectMarker, '1'),
          ],
        },
      },
    },
    dynamic_metadata: decisionMetadata(record),
  };
}

/**
 * CONTINUE for response headers that asks Envoy for the response body too, buffered (a tag list:
 * src/tag-list/). Needs `allow_mode_override: true`; every mode is given because before Envoy 1.34
 * an override replaced the whole mode. BUFFERED_PARTIAL, not BUFFERED: a body over Envoy's buffer
 * limit then arrives in part (without end_of_stream) and passes unchanged, where BUFFERED would
 * fail the response.
 */
export function bufferResponseBodyReply(): ProcessingResponse {
  return {
    response_headers: {},
    mode_override: {
      request_header_mode: 'SKIP',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'BUFFERED_PARTIAL',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    },
  };
}

/** What replaces a buffered response: its status (when it changes), body and `Link` header. */
export interface ReplacedResponse {
  readonly status?: string;
  readonly contentType: string;
  readonly body: string;
  /** The `Link` header; undefined removes the registry's. */
  readonly link: string | undefined;
}

/** Replaces the buffered body (and the headers Envoy holds with it) of the response. */
export function replaceBodyReply(replaced: ReplacedResponse, record: DecisionRecord): ProcessingResponse {
  const body = Buffer.from(replaced.body, 'utf8');
  const set = [
    ...(replaced.status ? [setHeader(HEADER.status, replaced.status)] : []),
    setHeader(HEADER.contentType, replaced.contentType),
    ...(replaced.link !== undefined ? [setHeader(HEADER.link, replaced.link)] : []),
  ];
  return {
    response_body: {
      response: {
        status: 'CONTINUE',
        header_mutation: {
          set_headers: set,
          // Envoy refuses a body whose length differs from a Content-Length it still holds
          // (ext_proc.cc: "mismatch between content length and the length of the mutated body"),
          // and recomputes none: without the header, its codec frames the body itself.
          remove_headers: [HEADER.contentLength, ...(replaced.link === undefined ? [HEADER.link] : [])],
        },
        body_mutation: { body },
      },
    },
    dynamic_metadata: decisionMetadata(record),
  };
}

/** The buffered body passes unchanged. */
export function bodyContinueReply(record: DecisionRecord): ProcessingResponse {
  return { response_body: {}, dynamic_metadata: decisionMetadata(record) };
}

export function responseContinueReply(record: DecisionRecord): ProcessingResponse {
  return { response_headers: {}, dynamic_metadata: decisionMetadata(record) };
}

/** Namespace of the dynamic metadata geosync writes (needs `metadata_options.receiving_namespaces`). */
export const METADATA_NAMESPACE = 'geosync';

/**
 * The decision as dynamic metadata, shaped like geosync.v1.Decision (proto/geosync/v1/decision.proto),
 * for Envoy access logs: %DYNAMIC_METADATA(geosync:outcome)%. google.protobuf.Value fields are
 * camelCase in protobufjs's built-in descriptor.
 */
export function decisionMetadata(record: DecisionRecord): Struct {
  const fields: Struct['fields'] = { outcome: { stringValue: record.outcome } };
  if (record.kind) fields.kind = { stringValue: record.kind };
  if (record.sourceRegion) fields.source_region = { stringValue: record.sourceRegion };
  if (record.lookupMs !== undefined) fields.lookup_ms = { numberValue: Math.round(record.lookupMs) };
  return { fields: { [METADATA_NAMESPACE]: { structValue: { fields } } } };
}
