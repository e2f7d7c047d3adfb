/**
 * The dynamic metadata geosync sends Envoy is documented by proto/geosync/v1/decision.proto: every
 * field it writes must be a field of geosync.v1.Decision and every outcome and kind a value of
 * its enums, so the proto (and the access-log fields operators build on it) cannot drift.
 */
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { DecisionRecord, Outcome } from '../../../src/decide/decision';
import { decisionMetadata, METADATA_NAMESPACE } from '../../../src/extproc/replies';
import type { PullKind } from '../../../src/oci/pull';

const def = protoLoader.loadSync('geosync/v1/decision.proto', {
  includeDirs: [path.join(__dirname, '../../../proto')],
  keepCase: true,
});
type Descriptor = { type: { field?: { name: string }[]; value?: { name: string }[] } };
const fields = (def['geosync.v1.Decision'] as unknown as Descriptor).type.field?.map((f) => f.name) ?? [];
const enumValues = (name: string) =>
  (def[name] as unknown as Descriptor).type.value?.map((v) => v.name) ?? [];

const OUTCOMES: Outcome[] = ['ineligible', 'pass', 'proxied', 'not_found', 'timeout', 'error', 'fresher'];
const KINDS: PullKind[] = ['manifest_by_tag', 'manifest_by_digest', 'blob'];

test.each(OUTCOMES)('outcome %s is a geosync.v1.Outcome', (o) => {
  expect(enumValues('geosync.v1.Outcome')).toContain(`OUTCOME_${o.toUpperCase()}`);
});

test.each(KINDS)('kind %s is a geosync.v1.Kind', (k) => {
  expect(enumValues('geosync.v1.Kind')).toContain(`KIND_${k.toUpperCase()}`);
});

test('every metadata field is a field of geosync.v1.Decision', () => {
  const record: DecisionRecord = { outcome: 'proxied', kind: 'blob', sourceRegion: 'a', lookupMs: 12.4 };
  const struct = decisionMetadata(record);
  const inner = struct.fields?.[METADATA_NAMESPACE]?.structValue?.fields ?? {};
  expect(Object.keys(inner).sort()).toEqual(['kind', 'lookup_ms', 'outcome', 'source_region']);
  for (const key of Object.keys(inner)) expect(fields).toContain(key);
  expect(inner.lookup_ms).toEqual({ numberValue: 12 });
});
