/**
 * Builds the ProcessingRequest messages Envoy sends (§1.3): headers with lower-case keys and the
 * value in `raw_value` (runtime `send_header_raw_value`, default true) or in `value` when off;
 * `metadata_context` always present; `attributes` keyed by the literal
 * "envoy.filters.http.ext_proc", only in the first message of a direction.
 * Reference: ext_proc/mutation_utils.cc headersToProto, ext_proc.cc addAttributes,
 * filters/common/expr (CEL attribute names).
 */
import type { ProcessingRequest } from '../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { Struct } from '../../src/generated/google/protobuf/Struct';
import type { Value } from '../../src/generated/google/protobuf/Value';
import type { HeaderMap } from './header-map';
import { stripQuery } from './routing';

export const ATTRIBUTES_KEY = 'envoy.filters.http.ext_proc';

export function headersToProto(
  headers: HeaderMap,
  rawValue: boolean,
): { key: string; raw_value?: Buffer; value?: string }[] {
  return headers
    .toArray()
    .map(([key, value]) => (rawValue ? { key, raw_value: Buffer.from(value, 'latin1') } : { key, value }));
}

export interface AttributeContext {
  /** Request headers as the filter sees them; undefined when unavailable (pre-1.37 encode-only, §1.4). */
  request?: HeaderMap;
  response?: HeaderMap;
  routeName: string;
  clusterName: string;
}

const HEADER_EXPR = /^(request|response)\.headers\[\s*(['"])([^'"]+)\2\s*\]$/;

/**
 * Evaluates the supported CEL attribute expressions. Ints become numbers, strings stay strings;
 * an expression that fails (unknown, or a missing header) is omitted (matching_utils.cc
 * evaluateAttributes).
 */
export function evaluateAttribute(expr: string, ctx: AttributeContext): Value | undefined {
  const s = (v: string | undefined): Value | undefined => (v === undefined ? undefined : { stringValue: v });
  const req = ctx.request;
  const header = HEADER_EXPR.exec(expr.trim());
  if (header) {
    const map = header[1] === 'request' ? req : ctx.response;
    return s(map?.getJoined(header[3] ?? ''));
  }
  switch (expr.trim()) {
    case 'request.path':
      return s(req?.get(':path'));
    case 'request.url_path':
      return req?.get(':path') === undefined ? undefined : s(stripQuery(req.get(':path') ?? ''));
    case 'request.query': {
      const p = req?.get(':path');
      return p === undefined ? undefined : s(p.includes('?') ? p.slice(p.indexOf('?') + 1) : '');
    }
    case 'request.host':
      return s(req?.get(':authority'));
    case 'request.scheme':
      return s(req?.get(':scheme'));
    case 'request.method':
      return s(req?.get(':method'));
    case 'request.id':
      return s(req?.get('x-request-id'));
    case 'request.protocol':
      return { stringValue: 'HTTP/1.1' };
    case 'response.code': {
      const code = ctx.response?.get(':status');
      return code === undefined ? undefined : { numberValue: Number(code) };
    }
    case 'xds.route_name':
      return { stringValue: ctx.routeName };
    case 'xds.cluster_name':
      return { stringValue: ctx.clusterName };
    default:
      return undefined;
  }
}

export function buildAttributes(exprs: string[], ctx: AttributeContext): Record<string, Struct> | undefined {
  if (exprs.length === 0) return undefined;
  const fields: Record<string, Value> = {};
  for (const e of exprs) {
    const v = evaluateAttribute(e, ctx);
    if (v !== undefined) fields[e] = v;
  }
  return { [ATTRIBUTES_KEY]: { fields } };
}

export function headersRequest(
  phase: 'request_headers' | 'response_headers',
  headers: HeaderMap,
  endOfStream: boolean,
  rawValue: boolean,
  attributes: Record<string, Struct> | undefined,
): ProcessingRequest {
  const msg: ProcessingRequest = {
    [phase]: { headers: { headers: headersToProto(headers, rawValue) }, end_of_stream: endOfStream },
    metadata_context: { filter_metadata: {} },
  };
  if (attributes) msg.attributes = attributes;
  return msg;
}
