/**
 * The published JSON Schema, read by a JSON Schema validator (Ajv) the way an editor reads it:
 * it accepts the shipped configurations, and it flags the same key as `geosync check-config` for
 * every mistake that concerns one key. Rules between keys (a region named in `regions`, …) are
 * only `check-config`'s.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configJsonSchema } from '../../../src/config/json-schema';
import { loadConfigText } from '../../../src/config/load';

const ROOT = path.join(__dirname, '../../..');
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  configJsonSchema(),
);

/** Ajv's `/regions/0/storage` (and `additionalProperty`) as geosync's `regions[0].storage.key`. */
function schemaPaths(text: string): string[] {
  if (validate(parse(text))) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = e.params as { additionalProperty?: string; missingProperty?: string };
    const key = extra.additionalProperty ?? extra.missingProperty;
    const parts = [...e.instancePath.split('/').slice(1), ...(key ? [key] : [])];
    return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  });
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const fixture = (name: string) => read(`test/unit/config/fixtures/${name}`);

test.each([
  'deploy/config/geosync.example.yaml',
  'envoy/example/geosync-b.yaml',
  'test/unit/config/fixtures/valid.yaml',
])('%s is valid against the published schema', (file) => {
  expect(schemaPaths(read(file))).toEqual([]);
});

test.each([
  'unknown-key.yaml',
  'lookup-timeout-low.yaml',
  'lookup-timeout-type.yaml',
  'region-name-bad.yaml',
  'region-missing.yaml',
  's3-bucket-missing.yaml',
  'storage-type-bad.yaml',
  'fs-root-relative.yaml',
  'negative-ttl-high.yaml',
  'probes-per-region-low.yaml',
  'log-level-bad.yaml',
  'regions-empty.yaml',
  'notifications-header-bad.yaml',
  'staleness-window-low.yaml',
])('%s: the schema flags the key check-config names', (name) => {
  const result = loadConfigText(fixture(name));
  expect(result.ok).toBe(false);
  const flagged = schemaPaths(fixture(name));
  for (const p of result.ok ? [] : result.problems) {
    // A union member the value does not fit is flagged at the union (regions[1].storage).
    expect(flagged.some((f) => p.path === f || p.path.startsWith(`${f}.`))).toBe(true);
  }
});

test('a secret written in the file is flagged too', () => {
  const text = `${fixture('valid.yaml')}\nnotifications: { authHeader: { value: hunter2 } }\n`;
  expect(schemaPaths(text)).toContain('notifications.authHeader.value');
});
