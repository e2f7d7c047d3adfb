/**
 * Scalar and well-known-type checks in the proto3 JSON mapping, which is what Envoy applies to
 * YAML/JSON bootstraps (https://protobuf.dev/programming-guides/json/): 64-bit and 32-bit
 * integers may be numbers or decimal strings, bytes are base64, Duration is "1.5s", wrappers are
 * their bare scalar.
 */
import { describe } from './problems';

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);

export const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

export function isScalarType(type: string): boolean {
  return (
    INT32.has(type) ||
    UINT32.has(type) ||
    INT64.has(type) ||
    UINT64.has(type) ||
    ['double', 'float', 'bool', 'string', 'bytes'].includes(type)
  );
}

/** Returns an error message, or undefined when `value` is a valid JSON form of the scalar type. */
export function checkScalar(type: string, value: unknown): string | undefined {
  if (type === 'string')
    return typeof value === 'string' ? undefined : `must be a string, got ${describe(value)}`;
  if (type === 'bool')
    return typeof value === 'boolean' ? undefined : `must be true or false, got ${describe(value)}`;
  if (type === 'bytes') {
    return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)
      ? undefined
      : `must be base64 bytes, got ${describe(value)}`;
  }
  if (type === 'double' || type === 'float') {
    if (typeof value === 'number') return undefined;
    if (typeof value === 'string' && (/^(NaN|-?Infinity)$/.test(value) || Number.isFinite(Number(value))))
      return undefined;
    return `must be a number, got ${describe(value)}`;
  }
  const n = integerValue(value);
  if (n === undefined) return `must be an integer, got ${describe(value)}`;
  if ((UINT32.has(type) || UINT64.has(type)) && n < 0n) return `must not be negative, got ${n}`;
  if (INT32.has(type) && (n < -(2n ** 31n) || n >= 2n ** 31n)) return `is out of range for ${type}`;
  if (UINT32.has(type) && n >= 2n ** 32n) return `is out of range for ${type}`;
  if (INT64.has(type) && (n < -(2n ** 63n) || n >= 2n ** 63n)) return `is out of range for ${type}`;
  if (UINT64.has(type) && n >= 2n ** 64n) return `is out of range for ${type}`;
  return undefined;
}

export function integerValue(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** Seconds of a Duration string ("0.5s" → 0.5), or undefined when malformed. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
  if (!m) return undefined;
  const seconds = Number(m[2]) + (m[3] ? Number(`0.${m[3]}`) : 0);
  if (seconds > 315_576_000_000) return undefined;
  return m[1] ? -seconds : seconds;
}

export function checkDuration(value: unknown): string | undefined {
  return durationSeconds(value) === undefined
    ? `must be a duration such as "0.5s" or "30s", got ${describe(value)}`
    : undefined;
}

export function checkTimestamp(value: unknown): string | undefined {
  return typeof value === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? undefined
    : `must be an RFC 3339 timestamp, got ${describe(value)}`;
}
