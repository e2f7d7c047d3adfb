/**
 * `npm run docs:config`: regenerates what is derived from the configuration's one declaration
 * (src/config/schema.ts) and from the Helm chart: the reference tables of docs/configuration.md and
 * envoy/README.md (between their generated:… markers), the published JSON Schema
 * deploy/config/geosync.schema.json, the chart's values schema and the chart's README.
 * test/unit/config/reference.test.ts fails when any of them is out of date. Development only:
 * nothing under scripts/ ships in dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GENERATED_FILES, GENERATED_SECTIONS, regenerate } from './generated';

const root = path.resolve(__dirname, '../../..');

function write(file: string, text: string): void {
  const full = path.join(root, file);
  const changed = !fs.existsSync(full) || fs.readFileSync(full, 'utf8') !== text;
  if (changed) fs.writeFileSync(full, text);
  console.log(`${changed ? 'updated  ' : 'unchanged'} ${file}`);
}

for (const file of Object.keys(GENERATED_SECTIONS)) {
  write(file, regenerate(file, fs.readFileSync(path.join(root, file), 'utf8')));
}
for (const [file, render] of Object.entries(GENERATED_FILES)) write(file, render());
