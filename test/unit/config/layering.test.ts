/**
 * config/ and envoy/ used to import each other. Now config/ imports nothing of envoy/, and envoy/
 * takes only the public types of the validated configuration (config/schema.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.join(__dirname, '../../../src');

function imports(dir: string): { file: string; target: string }[] {
  return readdirSync(path.join(SRC, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(SRC, rel)).isDirectory()) return imports(rel);
    if (!name.endsWith('.ts')) return [];
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(SRC, rel), 'utf8'), true, true);
    return importedFiles
      .filter((f) => f.fileName.startsWith('.'))
      .map((f) => ({ file: rel, target: path.relative(SRC, path.join(SRC, dir, f.fileName)) }));
  });
}

test('config/ does not import envoy/', () => {
  expect(imports('config').filter((i) => i.target.startsWith('envoy/'))).toEqual([]);
});

test('envoy/ imports only config/schema of config/', () => {
  const intoConfig = imports('envoy').filter((i) => i.target.startsWith('config/'));
  expect(intoConfig.length).toBeGreaterThan(0);
  expect(intoConfig.filter((i) => i.target !== 'config/types')).toEqual([]);
});
