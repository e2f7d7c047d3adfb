/**
 * The reference tables of docs/configuration.md and envoy/README.md, generated from the JSON
 * Schema: one row per key with its default, its allowed values and its description.
 */
import { posix } from 'node:path';
import { ENV_VARIABLES, type EnvVariable } from '../../src/config/env';
import { annotatedJsonSchema, schemaKeys, type DocSchema as JsonSchema, type SchemaKey } from './walk';

type Row = readonly string[];

/** The page that holds the tables of geosync's own keys; its links are relative to it. */
export const CONFIG_PAGE = 'docs/configuration.md';

/** docs/configuration.md "Keys": every key but the `envoy:` section's (envoy/README.md). */
export function configTable(): string {
  const keys = schemaKeys(annotatedJsonSchema(), (k) => k.schema.docs === undefined).filter(listed);
  return table(
    ['key', 'default', 'values', 'meaning'],
    keys.map((k) => keyRow(k, k.path)),
  );
}

/** docs/configuration.md "Environment variables": the keys declared with one, and the secrets named in the file. */
export function envTable(): string {
  const keys = schemaKeys(annotatedJsonSchema());
  const rows = ENV_VARIABLES.map((v): Row => {
    const key = keys.find((k) => k.path.join('.') === v.path.join('.') && k.variant === v.storageType);
    if (!key) throw new Error(`${v.name}: no key ${v.path.join('.')} in the schema`);
    return [
      code(v.name),
      code(v.path.join('.').replace(/\.\[\]/g, '[]')) + (v.storageType ? ` (${v.storageType})` : ''),
      key.schema.description ?? '',
    ];
  });
  const secrets = keys.filter((k) => k.schema.namesSecretVariable);
  for (const k of secrets) {
    rows.push([
      `the one \`${k.path.join('.')}\` names (default ${code(String(k.schema.default))})`,
      '',
      'the secret itself; it is never read from the file',
    ]);
  }
  return table(['variable', 'sets', 'meaning'], rows);
}

/** envoy/README.md "Tunables": the `envoy:` keys, cluster tuning keys aside. */
export function envoyTable(): string {
  const keys = schemaKeys(envoySchema(), (k) => k.schema.defaultText === undefined).filter(
    (k) => listed(k) && !k.schema.tuning,
  );
  return table(
    ['key', 'default', 'values', 'what it sets / when to change it'],
    keys.map((k) => keyRow(k, k.path)),
  );
}

/** envoy/README.md: the cluster tuning keys, with the defaults of siblings and of the local registry. */
export function clusterTuningTable(): string {
  const envoy = envoySchema();
  const siblings = envoy.properties?.siblingDefaults as JsonSchema;
  const local = envoy.properties?.localRegistry as JsonSchema;
  const rows = schemaKeys(siblings).map(({ path, schema }): Row => {
    const localKey = path.reduce<JsonSchema | undefined>((s, p) => s?.properties?.[p], local);
    const nested = schema.properties !== undefined;
    return [
      code(path.join('.')),
      nested ? '' : defaultText(schema, false),
      nested ? '' : defaultText(localKey ?? {}, false),
      values(schema),
      schema.description ?? '',
    ];
  });
  return table(['key', 'siblings', 'local registry', 'values', 'Envoy field / why'], rows);
}

function envoySchema(): JsonSchema {
  return annotatedJsonSchema().properties?.envoy as JsonSchema;
}

/** A section whose absence means its keys' defaults gets no row of its own (its keys do), unless it says more. */
function listed({ schema }: SchemaKey): boolean {
  if (schema.docs !== undefined || schema.defaultText !== undefined) return true;
  return !(schema.properties && isEmptyObject(schema.default));
}

function keyRow(key: SchemaKey, path: readonly string[]): Row {
  const name = path.join('.').replace(/\.\[\]/g, '[]');
  const shown = key.schema.docs !== undefined ? `${name}.*` : name;
  const description = key.schema.description ?? '';
  const variable = variableOf(key);
  const env = variable ? `; environment: ${code(variable.name)}` : '';
  return [
    code(shown) + (key.variant !== undefined && path[path.length - 1] !== 'type' ? ` (${key.variant})` : ''),
    key.schema.docs !== undefined
      ? `see [${key.schema.docs}](${posix.relative(posix.dirname(CONFIG_PAGE), key.schema.docs)})`
      : defaultText(key.schema, key.required),
    key.schema.docs !== undefined ? '' : values(key.schema),
    `${description}${env}`,
  ];
}

function variableOf(key: SchemaKey): EnvVariable | undefined {
  return ENV_VARIABLES.find((v) => v.path.join('.') === key.path.join('.') && v.storageType === key.variant);
}

function defaultText(schema: JsonSchema, required: boolean): string {
  if (schema.defaultText !== undefined) return schema.defaultText;
  if ('default' in schema) return code(JSON.stringify(schema.default).replace(/^"(.*)"$/, '$1'));
  return required ? 'required' : 'none';
}

function values(schema: JsonSchema): string {
  const s = schema as JsonSchema & {
    type?: unknown;
    enum?: unknown[];
    const?: unknown;
    minimum?: number;
    maximum?: number;
  };
  if (s.not !== undefined) return 'not allowed';
  if (s.enum) return s.enum.map((v) => code(String(v))).join(', ');
  if (s.const !== undefined) return code(String(s.const));
  if (s.oneOf) return 'mapping';
  switch (s.type) {
    case 'integer':
      return `integer ${range(s.minimum, s.maximum)}`.trim();
    case 'boolean':
      return '`true`, `false`';
    case 'string':
      return 'string';
    case 'array':
      return `list of ${s.items?.properties ? 'mappings' : 'strings'}`;
    case 'object':
      return isRecord(s) ? 'mapping of names to values' : 'mapping';
    default:
      return '';
  }
}

function range(min: number | undefined, max: number | undefined): string {
  const big = (n: number | undefined) => n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER;
  if (big(max)) return big(min) ? '' : `≥ ${min}`;
  return `${min}–${max}`;
}

function isRecord(schema: JsonSchema): boolean {
  return typeof schema.additionalProperties === 'object';
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: Row, rows: readonly Row[]): string {
  const line = (cells: Row) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
