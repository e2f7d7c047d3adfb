/**
 * The start-up check of each sibling's storage runs under `geosync serve` (where every probe is
 * wrapped for tracing): against real Swift S3, a bucket typo and wrong credentials are logged at
 * start-up instead of looking like content that is not there yet.
 */
import { startSwiftServe, type SwiftServe } from '../../support/swift-serve';

jest.setTimeout(120_000);

let fx: SwiftServe;

beforeAll(async () => {
  fx = await startSwiftServe();
});

afterAll(() => fx?.stop());

const MISCONFIGURED = 'sibling storage looks misconfigured';
const problems = () =>
  fx
    .logLines()
    .filter((l) => l.msg === MISCONFIGURED)
    .map((l) => ({ sibling: l.sibling, problem: l.problem }));

test('a bucket typo and wrong credentials are reported at start-up, once per sibling', async () => {
  await fx.start({ storage: { a: { secretAccessKey: 'wrong-secret' }, c: { bucket: 'region-cc' } } });
  expect(problems()).toEqual(
    expect.arrayContaining([
      { sibling: 'c', problem: 'bucket "region-cc" does not exist' },
      { sibling: 'a', problem: expect.stringMatching(/^access to bucket "region-a" is denied/) },
    ]),
  );
  expect(problems()).toHaveLength(2);
});

test('nothing is reported when the storage is right', async () => {
  await fx.start();
  expect(problems()).toEqual([]);
});
