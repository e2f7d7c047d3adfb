#!/usr/bin/env node
// Generates TypeScript types for the protos geosync speaks, with proto-loader-gen-types.
// Envoy's API protos ship in @grpc/grpc-js-xds (deps/); the project's own protos live in proto/.
// Output goes to src/generated (git-ignored): it is derived, so it is rebuilt, never edited.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const deps = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json', { paths: [root] })) + '/deps';
const out = path.join(root, 'src/generated');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
includeDirs.push(path.join(root, 'proto'));
const files = ['envoy/service/ext_proc/v3/external_processor.proto', 'geosync/v1/decision.proto'];
fs.rmSync(out, { recursive: true, force: true });
const bin = path.join(root, 'node_modules/.bin/proto-loader-gen-types');
execFileSync(
  bin,
  [
    '--keepCase',
    '--longs=String',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    `--outDir=${out}`,
    '--includeDirs',
    ...includeDirs,
    '--',
    ...files,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
console.log(
  `generated ${fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.ts')).length} type files in src/generated`,
);
