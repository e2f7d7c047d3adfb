/**
 * Credentials never appear in a configuration problem. The keys that hold them are read from the
 * schema (keys.ts `secret`, problems.ts), and every one is put in configurations that are wrong
 * around it: a value of the wrong kind, the value one level up, a misspelt twin, a broken
 * neighbour, broken YAML.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { docSchema, schemaKeys } from '../../../src/config/json-schema';
import { secret } from '../../../src/config/keys';
import { loadConfigText } from '../../../src/config/load';
import {
  holdsSecret,
  issueMessage,
  issueProblems,
  secretPaths,
  type ConfigProblem,
  type KeyPattern,
} from '../../../src/config/problems';
import { configFile } from '../../../src/config/schema';
import { validateConfig } from '../../../src/config/validate';

type Doc = Record<string, unknown>;

const PATTERNS = secretPaths(configFile);

/** A storage of each kind that parses, for the keys of that kind. */
const STORAGES: Record<string, Doc> = {
  s3: { type: 's3', bucket: 'registry' },
  azure: { type: 'azure', accountname: 'acct', container: 'registry' },
  gcs: { type: 'gcs', bucket: 'registry' },
  filesystem: { type: 'filesystem', root: '/srv/registry' },
};

/** The storage kind that declares the key (none for keys outside `regions[].storage`). */
function storageTypeOf(pattern: KeyPattern): string | undefined {
  if (pattern.join('.').startsWith('regions.[].storage.') === false) return undefined;
  const key = schemaKeys(docSchema()).find((k) => k.path.join('.') === pattern.join('.'));
  return key?.variant !== undefined && key.variant in STORAGES ? key.variant : undefined;
}

/** `regions[].storage.accountkey` */
const formatPattern = (pattern: KeyPattern): string => pattern.join('.').replace(/\.\[\]/g, '[]');

/** A valid configuration whose region `a` has storage of `type`. */
function base(type: string | undefined): Doc {
  return {
    region: 'b',
    listen: { grpc: '127.0.0.1:9002', admin: '127.0.0.1:9003' },
    regions: [
      {
        name: 'a',
        url: 'https://registry-a.example.com',
        storage: structuredClone(STORAGES[type ?? 'filesystem']),
      },
      { name: 'b', url: 'https://registry-b.example.com', storage: structuredClone(STORAGES.filesystem) },
    ],
  };
}

/** Sets `value` at `path` (`[]`: the first item), making the mappings on the way. */
function setAt(doc: Doc, path: KeyPattern, value: unknown): void {
  let node: Record<string | number, unknown> = doc;
  path.forEach((segment, i) => {
    const key = segment === '[]' ? 0 : segment;
    if (i === path.length - 1) node[key] = value;
    else {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string | number, unknown>;
    }
  });
}

interface Case {
  readonly name: string;
  /** The configuration, and the text that must not appear in any problem. */
  make(pattern: KeyPattern, secret: string): { doc?: Doc; yaml?: string; hidden: string };
}

const DIGITS = '8675309123';
const CASES: Case[] = [
  { name: 'a number', make: (p) => ({ doc: withAt(p, Number(DIGITS)), hidden: DIGITS }) },
  { name: 'a list', make: (p, s) => ({ doc: withAt(p, [s]), hidden: s }) },
  { name: 'a mapping', make: (p, s) => ({ doc: withAt(p, { value: s }), hidden: s }) },
  { name: 'one level up', make: (p, s) => ({ doc: withAt(p.slice(0, -1), s, p), hidden: s }) },
  {
    name: 'beside a misspelt twin',
    make: (p, s) => {
      const doc = withAt(p, s);
      setAt(doc, [...p.slice(0, -1), `${p[p.length - 1]}x`], s);
      return { doc, hidden: s };
    },
  },
  {
    name: 'beside a broken neighbour',
    make: (p, s) => {
      const doc = withAt(p, s);
      setAt(doc, [...p.slice(0, -1), 'requestTimeoutMs'], 'soon');
      return { doc, hidden: s };
    },
  },
  {
    name: 'in broken YAML',
    make: (p, s) => ({ yaml: stringify(withAt(p, s)).replace(s, `"${s}`), hidden: s }),
  },
];

/** The base configuration for `typeFrom`'s storage kind, with `value` at `path`. */
function withAt(path: KeyPattern, value: unknown, typeFrom: KeyPattern = path): Doc {
  const doc = base(storageTypeOf(typeFrom));
  setAt(doc, path, value);
  return doc;
}

function problemsOf(made: { doc?: Doc; yaml?: string }): readonly ConfigProblem[] {
  const result = made.yaml !== undefined ? loadConfigText(made.yaml, {}) : validateConfig(made.doc, {});
  return result.ok ? [] : result.problems;
}

test('the schema marks every credential key', () => {
  expect(PATTERNS.map(formatPattern)).toEqual(
    expect.arrayContaining([
      'regions[].storage.accessKeyId',
      'regions[].storage.secretAccessKey',
      'regions[].storage.sessionToken',
      'regions[].storage.accountkey',
      'regions[].storage.sastoken',
      'regions[].storage.credentials.secret',
      'notifications.authHeader.value',
    ]),
  );
  // Each storage key belongs to a storage kind the cases below can build.
  const storage = PATTERNS.filter((p) => p.join('.').startsWith('regions.[].storage.'));
  expect(storage.filter((p) => storageTypeOf(p) === undefined).map(formatPattern)).toEqual([]);
});

describe.each(PATTERNS.map((p) => [formatPattern(p), p] as const))('%s', (name, pattern) => {
  const secret = `Sup3r-s3cret-${name.replace(/[^a-z]/gi, '')}`;
  test.each(CASES.map((c) => [c.name, c] as const))('%s: a problem, never the value', (_, c) => {
    const made = c.make(pattern, secret);
    const problems = problemsOf(made);
    expect(problems.length).toBeGreaterThan(0);
    expect(JSON.stringify(problems)).not.toContain(made.hidden);
  });
});

test("a secret key's own wording that would quote the value is overruled", () => {
  const schema = z.strictObject({
    key: secret(z.string().regex(/^x/, { error: (iss) => `bad "${String(iss.input)}"` })),
  });
  const patterns = secretPaths(schema);
  const secretAt = (path: readonly PropertyKey[]) => holdsSecret(patterns, path);
  const known = new Map<string, readonly string[]>();
  const parsed = schema.safeParse(
    { key: 'Sup3r-s3cret' },
    { error: issueMessage(known, secretAt), reportInput: true },
  );
  expect(parsed.success).toBe(false);
  expect(issueProblems(parsed.error?.issues ?? [], known, secretAt)).toEqual([
    { path: 'key', message: 'is not valid, got a string' },
  ]);
});
