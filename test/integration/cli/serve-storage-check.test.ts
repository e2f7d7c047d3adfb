/**
 * The start-up check of each sibling's storage runs under `geosync serve` (where every probe is
 * wrapped for tracing): against real Swift S3, a bucket typo and wrong credentials are logged at
 * start-up instead of looking like content that is not there yet. A storage that answers 403
 * for missing keys (S3 without s3:ListBucket) is reported with the permissions geosync needs,
 * and its misses count as misses, not as failures of the region.
 */
import { herd } from '../../support/clients/herd';
import { scrape, sum } from '../../support/prometheus';
import { startSwiftServe, type StartOptions, type SwiftServe } from '../../support/storage/swift-serve';

jest.setTimeout(120_000);

let fx: SwiftServe;

beforeAll(async () => {
  fx = await startSwiftServe();
});

afterAll(() => fx?.stop());

const MISCONFIGURED = 'sibling storage looks misconfigured';

/** Starts geosync b and waits until its storage check (which runs beside serving) has reported. */
async function startChecked(opts: StartOptions = {}): Promise<void> {
  await fx.start({ ...opts, logLevel: 'info' });
  await fx.logged('sibling storage checked');
}
const problems = () =>
  fx
    .logLines()
    .filter((l) => l.msg === MISCONFIGURED)
    .map((l) => ({ sibling: l.sibling, problem: l.problem }));

test('a bucket typo and wrong credentials are reported at start-up', async () => {
  await startChecked({ storage: { a: { secretAccessKey: 'wrong-secret' }, c: { bucket: 'region-cc' } } });
  expect(problems()).toEqual(
    expect.arrayContaining([
      { sibling: 'c', problem: 'bucket "region-cc" does not exist' },
      { sibling: 'a', problem: expect.stringMatching(/^access to bucket "region-a" is denied/) },
    ]),
  );
  // a may also be reported by the warm-up (a 403 for a key that never exists); c only for its typo.
  expect(problems().filter((p) => p.sibling === 'c')).toHaveLength(1);
});

test('nothing is reported when the storage is right', async () => {
  await startChecked();
  expect(problems()).toEqual([]);
});

test('a storage that answers 403 (a Swift user without read rights): reported with the IAM actions; misses there never open its breaker', async () => {
  await fx.putTag('c', 'held-by-c');
  const reader = fx.swift.reader;
  await startChecked({ storage: { a: reader }, lookupTimeoutMs: 2_000 });
  // From the check (HeadBucket answered 403) and, when the warm-up got its answer in time, from
  // the warm-up key that never exists; nothing about c.
  expect(problems()).toEqual(
    expect.arrayContaining([
      {
        sibling: 'a',
        problem: expect.stringContaining(
          's3:ListBucket on arn:aws:s3:::region-a and s3:GetObject on arn:aws:s3:::region-a/*',
        ),
      },
    ]),
  );
  expect(problems().filter((p) => p.sibling !== 'a')).toEqual([]);
  // Twice the default failureThreshold, one lookup at a time.
  for (let i = 0; i < 10; i++) {
    expect(await herd(fx.grpc, [`/v2/team/app/manifests/missing-${i}`])).toEqual({
      redirected: 0,
      passed: 1,
      unanswered: 0,
    });
  }
  expect(await herd(fx.grpc, ['/v2/team/app/manifests/held-by-c'])).toMatchObject({ redirected: 1 });
  const metrics = await scrape(fx.admin);
  expect(sum(metrics, 'geosync_decisions_total', { geosync_outcome: 'not_found' })).toBe(10);
  expect(sum(metrics, 'geosync_probes_total', { geosync_region: 'a', geosync_result: 'denied' })).toBe(11);
  expect(sum(metrics, 'geosync_breaker_state', { geosync_region: 'a' })).toBe(0);
});
