/**
 * Checks a parsed YAML/JSON value against an Envoy API message the way Envoy's loader does
 * (proto3 JSON mapping, then validation): unknown fields, wrong scalar types, unknown enum names,
 * two members of one oneof, every `google.protobuf.Any` resolved by its `@type` and checked
 * recursively, plus the PGV rules in pgv.ts. Returns the value with proto field names (JSON
 * camelCase names are accepted, as Envoy does) so cross-reference checks read one spelling.
 */
import * as protobuf from 'protobufjs';
import type { EnvoyProtos } from '../proto-root';
import { checkAbsentField, checkPresentField, oneofRequired } from './pgv';
import { describe, fieldPath, indexPath, isMapping, keyPath, type ProblemList } from './problems';
import { checkDuration, checkScalar, checkTimestamp, isScalarType, WRAPPERS } from './scalars';

const TYPE_URL_PREFIX = 'type.googleapis.com/';

export class MessageWalker {
  constructor(
    private readonly protos: EnvoyProtos,
    private readonly problems: ProblemList,
  ) {}

  message(type: protobuf.Type, value: unknown, path: string): unknown {
    const special = this.wellKnown(type.fullName.replace(/^\./, ''), value, path);
    if (special.handled) return special.value;
    if (!isMapping(value)) {
      this.problems.add(
        path,
        `must be a mapping (${type.fullName.replace(/^\./, '')}), got ${describe(value)}`,
      );
      return value;
    }
    const out: Record<string, unknown> = {};
    const setOneofs = new Map<string, string>();
    for (const [key, v] of Object.entries(value)) {
      const field = type.fields[key] ?? byJsonName(type, key);
      const p = fieldPath(path, key);
      if (!field) {
        this.problems.add(p, `unknown field (${type.fullName.replace(/^\./, '')} has no field "${key}")`);
        continue;
      }
      if (v === null) continue; // JSON null = field not set
      if (field.options?.deprecated) this.problems.warn(p, 'is deprecated in the Envoy API');
      const oneof = field.partOf;
      if (oneof && !oneof.name.startsWith('_')) {
        const other = setOneofs.get(oneof.name);
        if (other !== undefined) {
          this.problems.add(
            p,
            `"${other}" and "${field.name}" are members of oneof "${oneof.name}"; set only one`,
          );
        } else setOneofs.set(oneof.name, field.name);
      }
      out[field.name] = this.field(field, v, p);
    }
    for (const field of type.fieldsArray) {
      if (!(field.name in out)) checkAbsentField(field, path, this.problems);
    }
    for (const oneof of type.oneofsArray) {
      if (oneofRequired(oneof) && !setOneofs.has(oneof.name)) {
        this.problems.add(path, `one of ${oneof.oneof.join(', ')} is required (oneof "${oneof.name}")`);
      }
    }
    return out;
  }

  private field(field: protobuf.Field, value: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) {
      if (!isMapping(value)) {
        this.problems.add(path, `must be a mapping, got ${describe(value)}`);
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const keyProblem = field.keyType === 'string' ? undefined : checkScalar(field.keyType, k);
        if (keyProblem) this.problems.add(keyPath(path, k), `map key ${keyProblem}`);
        out[k] = this.single(field, v, keyPath(path, k));
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        this.problems.add(path, `must be a list, got ${describe(value)}`);
        return value;
      }
      checkPresentField(field, value, path, this.problems);
      return value.map((item, i) => this.single(field, item, indexPath(path, i)));
    }
    const out = this.single(field, value, path);
    checkPresentField(field, value, path, this.problems);
    return out;
  }

  private single(field: protobuf.Field, value: unknown, path: string): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, value, path);
    if (resolved instanceof protobuf.Type) return this.message(resolved, value, path);
    if (isScalarType(field.type)) {
      const problem = checkScalar(field.type, value);
      if (problem) this.problems.add(path, problem);
      return value;
    }
    this.problems.add(path, `has type ${field.type}, which the loaded Envoy API does not define`);
    return value;
  }

  private enumValue(e: protobuf.Enum, value: unknown, path: string): unknown {
    const names = Object.keys(e.values);
    if (typeof value === 'string' && names.includes(value)) return value;
    if (typeof value === 'number' && Object.values(e.values).includes(value)) return value;
    this.problems.add(
      path,
      `must be one of ${names.join(', ')} (${e.fullName.replace(/^\./, '')}), got ${describe(value)}`,
    );
    return value;
  }

  /** JSON forms of google.protobuf.* types that are not plain messages. */
  private wellKnown(name: string, value: unknown, path: string): { handled: boolean; value?: unknown } {
    const report = (problem: string | undefined): { handled: true; value: unknown } => {
      if (problem) this.problems.add(path, problem);
      return { handled: true, value };
    };
    const wrapped = WRAPPERS[name];
    if (wrapped) return report(checkScalar(wrapped, value));
    switch (name) {
      case 'google.protobuf.Duration':
        return report(checkDuration(value));
      case 'google.protobuf.Timestamp':
        return report(checkTimestamp(value));
      case 'google.protobuf.FieldMask':
        return report(typeof value === 'string' ? undefined : `must be a string, got ${describe(value)}`);
      case 'google.protobuf.Struct':
        return report(isMapping(value) ? undefined : `must be a mapping, got ${describe(value)}`);
      case 'google.protobuf.ListValue':
        return report(Array.isArray(value) ? undefined : `must be a list, got ${describe(value)}`);
      case 'google.protobuf.Value':
        return report(undefined);
      case 'google.protobuf.Empty':
        return report(isMapping(value) && Object.keys(value).length === 0 ? undefined : 'must be {}');
      case 'google.protobuf.Any':
        return { handled: true, value: this.any(value, path) };
      default:
        return { handled: false };
    }
  }

  /** An Any in JSON: `{"@type": "type.googleapis.com/<message>", ...fields}`. */
  private any(value: unknown, path: string): unknown {
    if (!isMapping(value)) {
      this.problems.add(path, `must be a mapping with "@type", got ${describe(value)}`);
      return value;
    }
    const typeUrl = value['@type'];
    const p = fieldPath(path, '@type');
    if (typeof typeUrl !== 'string' || typeUrl === '') {
      this.problems.add(p, 'is required: the type URL of the embedded message');
      return value;
    }
    const slash = typeUrl.lastIndexOf('/');
    if (slash < 0 || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.problems.add(p, `must start with "${TYPE_URL_PREFIX}", got "${typeUrl}"`);
      return value;
    }
    const name = typeUrl.slice(slash + 1);
    const type = this.protos.lookup(name);
    if (!type) {
      this.problems.add(p, `unknown type "${name}" (not in the Envoy API this geosync validates against)`);
      return value;
    }
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== '@type'));
    // Well-known types embed their JSON form under "value".
    const special = this.wellKnown(name, rest.value, fieldPath(path, 'value'));
    if (special.handled) return { '@type': typeUrl, value: special.value };
    return { '@type': typeUrl, ...(this.message(type, rest, path) as Record<string, unknown>) };
  }
}

function byJsonName(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fieldsArray.find((f) => jsonName(f.name) === key);
}

/** protoc's default json_name: drop underscores, upper-case the letter after each. */
function jsonName(name: string): string {
  return name.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
}
