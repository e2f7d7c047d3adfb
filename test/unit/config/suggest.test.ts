import { closestKey } from '../../../src/config/problems';

const KNOWN = ['region', 'regions', 'lookupTimeoutMs', 'drainMs', 'listen', 'negativeTtlMs', 'tagTtlMs'];

test.each<[string, string | undefined]>([
  ['lookupTimout', 'lookupTimeoutMs'], // letters dropped
  ['lookupTimeout', 'lookupTimeoutMs'], // the unit suffix forgotten
  ['LookupTimeoutMs', 'lookupTimeoutMs'], // case
  ['listne', 'listen'], // two letters swapped
  ['regoins', 'regions'],
  ['negativeTTLMs', 'negativeTtlMs'],
  ['drain', undefined], // too far from drainMs for its length
  ['bogus', undefined],
  ['version', undefined],
])('%s → %s', (key, expected) => {
  expect(closestKey(key, KNOWN)).toBe(expected);
});
