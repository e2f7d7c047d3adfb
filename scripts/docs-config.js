#!/usr/bin/env node
// Regenerates what is derived from the configuration's one declaration (src/config/schema.ts):
// the reference tables of README.md and envoy/README.md (between their generated:… markers) and
// the published JSON Schema deploy/config/geosync.schema.json. Run it through
// `npm run docs:config`, which builds dist/ first; test/unit/config/reference.test.ts fails when
// any of them is out of date.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const generated = require(path.join(root, 'dist/config/reference/generated.js'));

function write(file, text) {
  const full = path.join(root, file);
  const changed = !fs.existsSync(full) || fs.readFileSync(full, 'utf8') !== text;
  if (changed) fs.writeFileSync(full, text);
  console.log(`${changed ? 'updated  ' : 'unchanged'} ${file}`);
}

for (const file of Object.keys(generated.GENERATED_SECTIONS)) {
  write(file, generated.regenerate(file, fs.readFileSync(path.join(root, file), 'utf8')));
}
for (const [file, render] of Object.entries(generated.GENERATED_FILES)) write(file, render());
