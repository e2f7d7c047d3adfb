/**
 * Tag lists under load, with a's storage far away: a listing that needs several storage round
 * trips is finished in the background and merged on a later poll, and a flood of lists of random
 * repository names (each a listing no cache or coalescing absorbs) is shed as a flood of random
 * pulls is, instead of making one storage listing each.
 *
 * Real parts: a's distribution v3 registry on Swift S3, b's on its filesystem driver, two Envoys
 * from `geosync envoy-config`, two geosyncs at the default lookup deadlines (a tag list waits for
 * the siblings' listings up to `lookupTimeoutMaxMs`, 2 s, as a pull's lookup does); every hop
 * from b to a (Envoy, S3) crosses a TCP proxy that delays each direction. Swift's access log
 * counts the listings b's geosync makes of a's bucket.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { REGISTRY_V2_ROOT, tagCurrentLinkKey } from '../../src/storage/keys';
import { StorageRequestLog } from '../bench/tools/storage-requests';
import { registryRequest, waitUntil } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storageClient } from '../support/storage/region-storage';

jest.setTimeout(240_000);

/** One-way delay of every hop from b to a: 200 ms a round trip. */
const ONE_WAY_MS = 100;

/**
 * The first test's delay: 1.2 s a round trip, so the 2 pages of 1,500 tags (ListObjectsV2 answers
 * 1,000 names a page) take 2.4 s at least, past the 2 s a tag list waits for them
 * (`lookupTimeoutMaxMs`). Each tag is one object written into Swift first: 3,500 of them (4 pages
 * at 600 ms, within the default 1 s a storage request may take) took half a minute of a loaded
 * 2-core machine. A page of a's storage may take 3 s here (S3_REQUEST_TIMEOUT_MS); the test is
 * about a listing that outlasts the list's wait, not about that bound.
 */
const SLOW_ONE_WAY_MS = 600;
const TAGS = 1500;
const S3_REQUEST_TIMEOUT_MS = 3000;

let log: StorageRequestLog;
beforeAll(async () => {
  log = await StorageRequestLog.start();
});
afterAll(() => log?.close());

const { d, a, b } = useDeployment(() => ({
  regions: ['a', 'b'],
  storage: { a: 's3', b: 'filesystem' },
  crossRegionLatencyMs: ONE_WAY_MS,
  swiftAccessLogUdpPort: log.port,
  s3RequestTimeoutMs: { a: S3_REQUEST_TIMEOUT_MS },
  // geosync's lookup deadlines are its defaults (useDeployment).
  // One admission window and one cache: what the counts below are about.
  workers: 1,
}));

/** ListObjectsV2 requests of a's bucket by geosync (the AWS SDK for JavaScript; the registries use Go's). */
const listingsOfA = () =>
  log.requests.filter(
    (r) =>
      r.bucket === a.bucket && r.method === 'GET' && r.key === '' && r.userAgent.startsWith('aws-sdk-js'),
  ).length;

test('a listing of several storage round trips, longer than a list waits, merges on a later poll', async () => {
  const repo = 'slow/app';
  const digest = `sha256:${'ab'.repeat(32)}`;
  const tags = Array.from({ length: TAGS }, (_, i) => `t${String(i).padStart(4, '0')}`);
  // a's storage holds the tags (as replication or a push writes their links); b holds none.
  const s3 = storageClient(d);
  for (let i = 0; i < tags.length; i += 50) {
    await Promise.all(
      tags.slice(i, i + 50).map((t) =>
        s3.send(
          new PutObjectCommand({
            Bucket: a.bucket,
            Key: `${REGISTRY_V2_ROOT}/${tagCurrentLinkKey(repo, t)}`,
            Body: digest,
          }),
        ),
      ),
    );
  }
  a.s3Proxy!.setDelayMs(SLOW_ONE_WAY_MS);
  let polls = 0;
  let last = { status: 0, tags: [] as string[] };
  await waitUntil(
    'a poll lists every tag of a',
    async () => {
      polls++;
      const res = await registryRequest(b, `/v2/${repo}/tags/list`);
      last = {
        status: res.status,
        tags: res.status === 200 ? (JSON.parse(res.body.toString()) as { tags: string[] }).tags : [],
      };
      await new Promise((r) => setTimeout(r, 200));
      return last.status === 200;
    },
    30_000,
  );
  a.s3Proxy!.setDelayMs(ONE_WAY_MS);
  expect(last.tags).toEqual(tags);
  // The first poll's listing outlasted its deadline: the merge came on a later one.
  expect(polls).toBeGreaterThan(1);
});

test('300 lists of random repository names are shed: far fewer listings than lists, each answered', async () => {
  // A listing takes 400 ms or more here (the old code let it run 600 ms), so the lists overlap as
  // a flood does.
  a.s3Proxy!.setDelayMs(200);
  try {
    log.reset();
    const connections = a.s3Proxy!.accepted;
    const names = Array.from({ length: 300 }, () => `random/${randomBytes(6).toString('hex')}`);
    const answers = await Promise.all(
      names.map((n) => registryRequest(b, `/v2/${n}/tags/list`, { timeoutMs: 60_000 })),
    );
    // Every list is answered, and rightly: no region holds these repositories.
    expect(answers.map((r) => r.status)).toEqual(names.map(() => 404));
    // Listings still on their way to a's storage reach it and its access log: count once that has settled.
    let seen = -1;
    await waitUntil(
      "a's access log holds every listing",
      async () => {
        const now = listingsOfA();
        const settled = now === seen && now > 0;
        seen = now;
        await new Promise((r) => setTimeout(r, 1000));
        return settled;
      },
      30_000,
    );
    // Without shedding: one listing per name, all at once. With it: one client runs at most half
    // the admission window at once (32 of 64; src/locate/admission.ts), and the AWS SDK's
    // keep-alive pool opens a connection to a's storage only for a request it runs beside all the
    // others; the rest of the lists pass at once.
    expect(seen).toBeLessThan(names.length);
    expect(a.s3Proxy!.accepted - connections).toBeLessThanOrEqual(40);
  } finally {
    a.s3Proxy!.setDelayMs(ONE_WAY_MS);
  }
});
