/**
 * What is generated from the configuration's one declaration (src/config/schema.ts) is committed
 * and current: the tables of docs/configuration.md and envoy/README.md, and the published JSON
 * Schema. After a change to a key, run `npm run docs:config` and commit what it rewrites.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  GENERATED_FILES,
  GENERATED_SECTIONS,
  regenerate,
  SCHEMA_FILE,
} from '../../../scripts/config-docs/generated';

const ROOT = path.join(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const STALE = 'out of date: run `npm run docs:config`';

describe('generated from the configuration schema', () => {
  test.each(Object.keys(GENERATED_SECTIONS))('%s: the generated sections are current', (file) => {
    const text = read(file);
    if (regenerate(file, text) !== text) throw new Error(`${file} ${STALE}`);
  });

  test.each(Object.keys(GENERATED_FILES))('%s is current', (file) => {
    const render = GENERATED_FILES[file] as () => string;
    if (read(file) !== render()) throw new Error(`${file} ${STALE}`);
  });

  test.each(['deploy/config/geosync.example.yaml', 'envoy/example/geosync-b.yaml'])(
    '%s names the published schema in its first line, for editors',
    (file) => {
      const first = read(file).split('\n')[0] as string;
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(match).not.toBeNull();
      const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), match?.[1] as string));
      expect(target).toBe(SCHEMA_FILE);
    },
  );
});
