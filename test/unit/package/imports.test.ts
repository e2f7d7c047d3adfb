/**
 * Every package the code imports is declared in package.json: a package that is only present as
 * some other package's dependency can disappear or change major version with any update of that
 * package. What runs in production (src/) may import only `dependencies`, because the image
 * installs no devDependencies (deploy/Dockerfile: npm ci --omit=dev); tests, scripts and tool
 * configuration may also import `devDependencies`. Node's built-in modules need no declaration.
 *
 * Imports are read with TypeScript's own pre-processor (ts.preProcessFile): `import`, `import
 * type`, `export … from`, `import()` and `require()`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const runtime = new Set(Object.keys(pkg.dependencies ?? {}));
const development = new Set([...runtime, ...Object.keys(pkg.devDependencies ?? {})]);

const CODE = /\.(ts|js|mjs|cjs)$/;

function codeFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path.join(ROOT, rel)).isDirectory()) return codeFiles(rel);
    return CODE.test(name) ? [rel] : [];
  });
}

/** `@scope/name/deep/path` → `@scope/name`; `name/deep` → `name`; relative or absolute → undefined. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The packages `file` imports that `allowed` does not declare, as "file: specifier". */
function undeclaredImports(file: string, source: string, allowed: ReadonlySet<string>): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => {
      if (isBuiltin(spec)) return false; // node:fs, fs
      const name = packageOf(spec);
      return name !== undefined && !allowed.has(name);
    })
    .map((spec) => `${file}: ${spec}`);
}

const production = codeFiles('src');
const tooling = [
  ...codeFiles('test'),
  ...codeFiles('scripts'),
  'bin/geosync',
  'eslint.config.js',
  'jest.config.js',
];

test('the scan sees the code (src/, test/, scripts/, tool configuration)', () => {
  expect(production).toContain(path.join('src', 'envoy', 'binary.ts'));
  expect(tooling).toContain(path.join('test', 'unit', 'package', 'imports.test.ts'));
  expect(tooling).toContain(path.join('scripts', 'tally.js'));
});

test('src/ imports only packages declared in dependencies', () => {
  const found = production.flatMap((f) =>
    undeclaredImports(f, readFileSync(path.join(ROOT, f), 'utf8'), runtime),
  );
  expect(found).toEqual([]);
});

test('tests, scripts and tool configuration import only declared packages', () => {
  const found = tooling.flatMap((f) =>
    undeclaredImports(f, readFileSync(path.join(ROOT, f), 'utf8'), development),
  );
  expect(found).toEqual([]);
});

test.each([
  ["import * as protobuf from 'protobufjs';", ['x.ts: protobufjs']],
  ["import type { Root } from 'protobufjs/light';", ['x.ts: protobufjs/light']],
  ["export { x } from '@scope/pkg/deep/file';", ['x.ts: @scope/pkg/deep/file']],
  ["const m = require('left-pad');", ['x.ts: left-pad']],
  ["const m = await import('left-pad');", ['x.ts: left-pad']],
  ["import { readFile } from 'node:fs/promises'; import os from 'os';", []],
  ["import { a } from './a'; import { b } from '../../b';", []],
  ["import { parse } from 'yaml'; import { Root } from '@grpc/proto-loader/build/src';", []],
])('the check itself: %s', (source, expected) => {
  expect(undeclaredImports('x.ts', source, new Set(['yaml', '@grpc/proto-loader']))).toEqual(expected);
});
