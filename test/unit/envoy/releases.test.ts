/** Which Envoy releases may run the bootstrap in production, and the pins the tests run. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compareVersions } from '../../../src/envoy/binary';
import {
  MINIMUM_PATCH,
  NEWEST_TESTED_ENVOY,
  OLDEST_SUPPORTED_ENVOY,
  releaseConcern,
} from '../../../src/envoy/releases';

const pins = readFileSync(path.resolve(__dirname, '../../../scripts/envoy-versions'), 'utf8');
const pinned = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(pins)?.[1];
const line = (version: string) => version.split('.').slice(0, 2).join('.');

test.each<[string, string | undefined]>([
  ['1.37.6', "geosync's bootstrap is made for Envoy 1.39 or newer"],
  ['1.38.4', "geosync's bootstrap is made for Envoy 1.39 or newer"],
  [
    '1.39.0',
    'on the 1.39 line, run 1.39.1 or newer in production (its ext_proc fixes; envoy/README.md, "Versions")',
  ],
  ['1.39.1', undefined],
  ['1.39.3', undefined],
  ['1.40.0', undefined],
  ['1.41.0', undefined],
])('Envoy %s: %s', (version, concern) => {
  expect(releaseConcern(version)).toBe(concern);
});

test('the releases the tests run are the oldest supported line and the newest, each at or past its minimum patch', () => {
  const oldest = pinned('OLDEST') as string;
  const newest = pinned('NEWEST') as string;
  expect(line(oldest)).toBe(OLDEST_SUPPORTED_ENVOY);
  expect(newest).toBe(NEWEST_TESTED_ENVOY);
  for (const version of [oldest, newest]) {
    expect([version, releaseConcern(version)]).toEqual([version, undefined]);
    expect(MINIMUM_PATCH[line(version)]).toBeDefined();
  }
  // Every line from the oldest to the newest has its minimum patch named.
  const minor = (version: string) => Number(version.split('.')[1]);
  for (let m = minor(oldest); m <= minor(newest); m++) expect(MINIMUM_PATCH[`1.${m}`]).toBeDefined();
  expect(Object.keys(MINIMUM_PATCH).sort(compareVersions)[0]).toBe(OLDEST_SUPPORTED_ENVOY);
});
