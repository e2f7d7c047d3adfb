/**
 * The dynamic metadata geosync sends Envoy is documented by proto/geosync/v1/decision.proto: the
 * outcomes and kinds geosync can write are exactly the values of its enums (but the zero value),
 * and the fields it writes exactly the fields of geosync.v1.Decision, so the proto (and the
 * access-log fields operators build on it) cannot drift. Both sides are read from their sources:
 * the TypeScript unions `Outcome` and `RecordKind` (src/decide/decision.ts) by the compiler, the
 * proto by proto-loader; nothing here is a hand-typed copy of either.
 */
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import ts from 'typescript';
import type { DecisionRecord } from '../../../src/decide/decision';
import { decisionMetadata, METADATA_NAMESPACE } from '../../../src/extproc/replies';

const ROOT = path.join(__dirname, '../../..');

const def = protoLoader.loadSync('geosync/v1/decision.proto', {
  includeDirs: [path.join(ROOT, 'proto')],
  keepCase: true,
});
type Descriptor = { type: { field?: { name: string }[]; value?: { name: string }[] } };
const fields = (def['geosync.v1.Decision'] as unknown as Descriptor).type.field?.map((f) => f.name) ?? [];
/** An enum's values without its prefix and its zero value, as geosync's labels spell them. */
const enumLabels = (name: string, prefix: string) =>
  ((def[name] as unknown as Descriptor).type.value ?? [])
    .map((v) => v.name)
    .filter((v) => v !== `${prefix}UNSPECIFIED`)
    .map((v) => v.slice(prefix.length).toLowerCase())
    .sort();

/**
 * The string literals of the union type alias `name` that `file` exports, resolved by the
 * compiler (imported members included). No default library: literal types need none, and leaving
 * it out keeps this a fraction of a second.
 */
function unionLiterals(file: string, name: string): string[] {
  const program = ts.createProgram([file], { strict: true, noEmit: true, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === name);
  if (!symbol) throw new Error(`${file}: no exported type ${name}`);
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  const members = type.isUnion() ? type.types : [type];
  return members
    .map((t) => {
      if (!t.isStringLiteral())
        throw new Error(`${name}: ${checker.typeToString(t)} is not a string literal`);
      return t.value;
    })
    .sort();
}

const DECISION_TS = path.join(ROOT, 'src/decide/decision.ts');

test("geosync's outcomes are exactly geosync.v1.Outcome's values", () => {
  const outcomes = unionLiterals(DECISION_TS, 'Outcome');
  expect(outcomes).toEqual(enumLabels('geosync.v1.Outcome', 'OUTCOME_'));
});

test("geosync's kinds are exactly geosync.v1.Kind's values", () => {
  const kinds = unionLiterals(DECISION_TS, 'RecordKind');
  expect(kinds).toEqual(enumLabels('geosync.v1.Kind', 'KIND_'));
});

test('the metadata of a record with every field set holds exactly the fields of geosync.v1.Decision', () => {
  const record: DecisionRecord = { outcome: 'proxied', kind: 'blob', sourceRegion: 'a', lookupMs: 12.4 };
  const struct = decisionMetadata(record);
  const inner = struct.fields?.[METADATA_NAMESPACE]?.structValue?.fields ?? {};
  expect(Object.keys(inner).sort()).toEqual([...fields].sort());
  expect(inner.lookup_ms).toEqual({ numberValue: 12 });
});
