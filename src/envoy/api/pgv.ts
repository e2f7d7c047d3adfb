/**
 * The subset of protoc-gen-validate rules (envoy-api's `(validate.rules)` annotations) that Envoy
 * enforces at load and that a hand-edited bootstrap most often breaks: required messages and
 * oneofs, non-empty strings and lists, numeric bounds, durations that must be positive.
 * Rules: https://github.com/bufbuild/protoc-gen-validate/blob/main/validate/validate.proto
 */
import type * as protobuf from 'protobufjs';
import { fieldPath, type ProblemList } from './problems';
import { durationSeconds, integerValue, WRAPPERS } from './scalars';

type Options = Record<string, unknown>;

function opts(field: protobuf.Field): Options {
  return (field.options ?? {}) as Options;
}

/** Rules on a field that is absent from the mapping (proto3 default value). */
export function checkAbsentField(field: protobuf.Field, path: string, problems: ProblemList): void {
  if (field.partOf && !field.partOf.name.startsWith('_')) return; // oneof members are checked as a group
  const o = opts(field);
  const p = fieldPath(path, field.name);
  if (
    o['(validate.rules).message.required'] ||
    o['(validate.rules).duration.required'] ||
    o['(validate.rules).any.required']
  ) {
    problems.add(p, 'is required');
  } else if (
    !field.repeated &&
    field.type === 'string' &&
    Number(o['(validate.rules).string.min_len'] ?? 0) > 0
  ) {
    if (!o['(validate.rules).string.ignore_empty']) problems.add(p, 'is required (must not be empty)');
  } else if (field.repeated && Number(o['(validate.rules).repeated.min_items'] ?? 0) > 0) {
    problems.add(p, `is required (at least ${Number(o['(validate.rules).repeated.min_items'])} item(s))`);
  }
}

/** Rules on a present field value (already type-checked). */
export function checkPresentField(
  field: protobuf.Field,
  value: unknown,
  path: string,
  problems: ProblemList,
): void {
  const o = opts(field);
  if (field.repeated) {
    const min = Number(o['(validate.rules).repeated.min_items'] ?? 0);
    if (Array.isArray(value) && value.length < min) problems.add(path, `must have at least ${min} item(s)`);
    return;
  }
  if (field.type === 'string' && typeof value === 'string') {
    const min = Number(o['(validate.rules).string.min_len'] ?? 0);
    if (value.length < min && !(value === '' && o['(validate.rules).string.ignore_empty'])) {
      problems.add(path, `must be at least ${min} character(s) long`);
    }
    return;
  }
  const typeName = field.resolvedType ? field.resolvedType.fullName.replace(/^\./, '') : field.type;
  if (typeName === 'google.protobuf.Duration') {
    checkDurationBounds(field, value, path, problems);
    return;
  }
  // Rules on a wrapper (UInt32Value) constrain the wrapped scalar.
  const scalar = WRAPPERS[typeName] ?? typeName;
  const kind = ['uint32', 'uint64', 'int32', 'int64', 'double'].find((k) => scalar === k);
  if (kind) checkNumberBounds(o, kind, value, path, problems);
}

function checkNumberBounds(
  o: Options,
  kind: string,
  value: unknown,
  path: string,
  problems: ProblemList,
): void {
  const n = kind === 'double' ? Number(value) : Number(integerValue(value));
  if (!Number.isFinite(n)) return;
  const bound = (rule: string): number | undefined => {
    const v = o[`(validate.rules).${kind}.${rule}`];
    return v === undefined ? undefined : Number(v);
  };
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  if (gt !== undefined && !(n > gt)) problems.add(path, `must be greater than ${gt}, got ${n}`);
  if (gte !== undefined && !(n >= gte)) problems.add(path, `must be at least ${gte}, got ${n}`);
  if (lt !== undefined && !(n < lt)) problems.add(path, `must be less than ${lt}, got ${n}`);
  if (lte !== undefined && !(n <= lte)) problems.add(path, `must be at most ${lte}, got ${n}`);
}

function checkDurationBounds(
  field: protobuf.Field,
  value: unknown,
  path: string,
  problems: ProblemList,
): void {
  const seconds = durationSeconds(value);
  if (seconds === undefined) return;
  const parsed = (field.parsedOptions ?? []) as Options[];
  for (const entry of parsed) {
    const duration = (entry['(validate.rules)'] as Options | undefined)?.duration as Options | undefined;
    if (!duration) continue;
    const limit = (key: string): number | undefined => {
      const d = duration[key] as { seconds?: number | string; nanos?: number } | undefined;
      return d === undefined ? undefined : Number(d.seconds ?? 0) + Number(d.nanos ?? 0) / 1e9;
    };
    const gt = limit('gt');
    const gte = limit('gte');
    const lt = limit('lt');
    const lte = limit('lte');
    if (gt !== undefined && !(seconds > gt))
      problems.add(path, `must be longer than ${gt}s, got ${String(value)}`);
    if (gte !== undefined && !(seconds >= gte))
      problems.add(path, `must be at least ${gte}s, got ${String(value)}`);
    if (lt !== undefined && !(seconds < lt))
      problems.add(path, `must be shorter than ${lt}s, got ${String(value)}`);
    if (lte !== undefined && !(seconds <= lte))
      problems.add(path, `must be at most ${lte}s, got ${String(value)}`);
  }
}

/** A oneof annotated `(validate.required) = true` needs exactly one member. */
export function oneofRequired(oneof: protobuf.OneOf): boolean {
  return Boolean((oneof.options as Options | undefined)?.['(validate.required)']);
}
