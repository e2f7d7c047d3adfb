/**
 * A herd of rescues, counted where it costs: at the sibling's storage. Clients pull one new image
 * through b at once (every request a local 404 that geosync rescues from a), with geosync's
 * defaults and two workers; Swift's access log (one datagram per S3 request) counts every request
 * b's geosync makes of a's bucket, per key. Each worker has its own lookup cache and coalescing
 * (README, "Workers"), so a herd costs at most one storage request per key per worker; a tag's
 * answer is cached for `locate.cache.tagTtlMs` by design (tags move), so the tag's key may be asked
 * once more per such period the herd lasts.
 *
 * Real parts: distribution v3 registries (a's on Swift S3, b's on its filesystem), `geosync serve`
 * with two workers, Envoys from `geosync envoy-config`, pulls by HTTP through b's Envoy, every body
 * re-hashed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DEFAULTS } from '../../src/config/defaults';
import { REGISTRY_V2_ROOT, tagCurrentLinkKey } from '../../src/storage/keys';
import { StorageRequestLog } from '../bench/tools/storage-requests';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { digestsOf } from '../support/oci/layouts';
import { counters, registryRequest, waitUntil } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(240_000);

/** The count is per worker: two, whatever the machine's cores. */
const WORKERS = 2;
const CLIENTS = 50;
/** A hang guard per request, not a speed target. */
const REQUEST_TIMEOUT_MS = 120_000;

let log: StorageRequestLog;
beforeAll(async () => {
  log = await StorageRequestLog.start();
});
afterAll(() => log?.close());

const { d, a, b, tmp } = useDeployment(() => ({
  regions: ['a', 'b'],
  // b's registry on its own storage, as in production: here one Swift serves every bucket, and
  // the herd's own 404s read in b's bucket would queue geosync's requests to a's behind them.
  storage: { a: 's3', b: 'filesystem' },
  swiftAccessLogUdpPort: log.port,
  workers: WORKERS,
}));

/**
 * b's decisions, probes and their durations (geosync's own measure) by their labels but the
 * worker's, as "name{labels}" → value: what the herd made geosync decide and ask, for a failure's
 * message.
 */
function tallies(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(
    /^(geosync_(?:decisions_total|probes_total|(?:probe|lookup)_duration_seconds_(?:sum|count)))\{([^}]*)\} (\S+)$/gm,
  )) {
    const labels = m[2]!
      .split(',')
      .filter((l) => /^geosync_(outcome|kind|region|result)=/.test(l))
      .join(',');
    const key = `${m[1]}{${labels}}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v !== 0),
  );
}

const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/** Requests b's geosync (the AWS SDK for JavaScript; the registries use Go's) made of a's bucket, per key: method and status of each. */
function geosyncRequestsOfA(): Map<string, string[]> {
  const perKey = new Map<string, string[]>();
  for (const r of log.requests) {
    // Keys outside distribution's layout are geosync's keep-warm HEADs, which no pull causes.
    if (r.bucket !== a.bucket || !r.userAgent.startsWith('aws-sdk-js')) continue;
    if (!r.key.startsWith(`${REGISTRY_V2_ROOT}/`)) continue;
    perKey.set(r.key, [...(perKey.get(r.key) ?? []), `${r.method} ${r.status}`]);
  }
  return perKey;
}

test(`a herd of ${CLIENTS} pulls of a new image through b: all rescued, at most one storage request per key per worker`, async () => {
  const image = createOciImage(path.join(tmp.make('herd'), 'src'), { tag: 'v1', layerSizes: [2000, 3000] });
  const repository = 'herd/app';
  await skopeoPush(image.dir, 'v1', { host: a.host, repository });
  log.reset();
  const before = await counters(b);
  const started = Date.now();

  // As a deploy on CLIENTS nodes: every client asks for the manifest by tag at once, then for its
  // config and layers.
  const manifests = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      registryRequest(b, `/v2/${repository}/manifests/v1`, { timeoutMs: REQUEST_TIMEOUT_MS }),
    ),
  );
  const blobs = [image.configDigest, ...image.layerDigests];
  const blobAnswers = await Promise.all(
    Array.from({ length: CLIENTS }, () => blobs).flatMap((digests) =>
      digests.map((digest) =>
        registryRequest(b, `/v2/${repository}/blobs/${digest}`, { timeoutMs: REQUEST_TIMEOUT_MS }).then(
          (r) => `${r.status} ${sha256(r.body)}`,
        ),
      ),
    ),
  );
  const elapsed = Date.now() - started;

  // Every pull got the pushed bytes, each request rescued by one internal redirect to a. (What
  // b's geosync decided and asked is shown when they did not.)
  const after = await counters(b);
  const answers: Record<string, number> = {};
  for (const answer of [...manifests.map((r) => `${r.status} ${sha256(r.body)}`), ...blobAnswers])
    answers[answer] = (answers[answer] ?? 0) + 1;
  const expected = Object.fromEntries([image.manifestDigest, ...blobs].map((dg) => [`200 ${dg}`, CLIENTS]));
  try {
    expect(answers).toEqual(expected);
  } catch (err) {
    const geosync = delta(tallies(before.metrics), tallies(after.metrics));
    (err as Error).message += `\nb's geosync during the herd: ${JSON.stringify(geosync, null, 1)}`;
    throw err;
  }
  expect(after.redirects - before.redirects).toBe(CLIENTS * (1 + blobs.length));
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });

  // Requests still on their way reach Swift's log later: count once it has settled.
  let seen = -1;
  await waitUntil(
    "a's access log holds every request of the herd",
    async () => {
      const now = log.requests.length;
      const settled = now === seen && now > 0;
      seen = now;
      await new Promise((r) => setTimeout(r, 1000));
      return settled;
    },
    30_000,
  );
  // A lost datagram would make the count below pass on too few requests.
  expect(log.drops()).toBe(0);
  const perKey = geosyncRequestsOfA();
  const tagKey = `${REGISTRY_V2_ROOT}/${tagCurrentLinkKey(repository, 'v1')}`;
  // The herd reached a's storage through its tag (a log that saw nothing would pass the bound).
  expect(perKey.get(tagKey)?.length ?? 0).toBeGreaterThanOrEqual(1);
  const tagPeriods = 1 + Math.floor(elapsed / DEFAULTS.locate.cache.tagTtlMs);
  const over = [...perKey].filter(
    ([key, requests]) => requests.length > WORKERS * (key === tagKey ? tagPeriods : 1),
  );
  expect({ over, elapsed }).toEqual({ over: [], elapsed });
});
