/**
 * Herds through b of an image only a holds, a being go-containerregistry's registry looked up
 * through its API (`lookup: registry`), 125 ms each way from b, everything at geosync's defaults
 * (one worker per core). Each client is a node of a rollout: its own connection, the manifest by
 * tag, then the config and every layer, each body re-hashed against its digest. Pinned as
 * outcomes: no request fails, and geosync asks a's registry at most once per key per worker (the
 * registry's front counts geosync's requests by their user agent; the redirected pulls are the
 * clients' own and are not lookups).
 * What it cannot show: a registry that rate-limits its API (go-containerregistry's does not).
 * A 5,000-node herd is not run here. It passes (0 failed, at most once per key per worker per tag
 * entry) alone and beside another suite, but it keeps both cores busy for about 30 s, and the
 * suite that jest runs beside it then misses its own deadlines (tag-freshness.test.ts did, in a
 * run at load average 13). The benchmark runs it (docs/benchmarks.md, part 3: 5,000 clients
 * through registry-API lookups of distribution siblings, 0 failed).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerCount } from '../../src/workers/cores';
import type { CraneRegistry } from '../support/registries/crane-registry';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { counters, MANIFEST_ACCEPT } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';

jest.setTimeout(600_000);

let image: OciImage;
const { a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: { a: 'registry-api', b: 'filesystem' },
  crossRegionLatencyMs: 125,
  // geosync's own defaults: its lookup deadlines, and one worker per core (0).
  workers: 0,
});
beforeAll(() => {
  image = createOciImage(path.join(tmp.make('herd'), 'src'), { tag: 'v1', layerSizes: [2048, 4096] });
});

/**
 * The herd's clients, in a thread of their own: the test's event loop also carries the delaying
 * proxies between the regions and the registry's counting front, and N clients' sockets and hashes
 * on it would slow those, not geosync. Each node pulls on its own connection: the manifest by tag,
 * then its config and layers at once, every body re-hashed against its digest. Resolves with what
 * failed ('<what>: <why>'), empty when every request got its bytes.
 */
const HERD_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { createHash } = require('node:crypto');
const { base, manifest, blobs, accept, n } = workerData;
function get(agent, url, digest) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { accept } }, (res) => {
      const hash = createHash('sha256');
      res.on('data', (c) => hash.update(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve('status ' + res.statusCode);
        resolve('sha256:' + hash.digest('hex') === digest ? 'ok' : 'digest mismatch');
      });
      res.on('error', (err) => resolve(err.message));
    });
    // A hang guard, not a speed target: an unanswered request counts as failed.
    req.setTimeout(120000, () => req.destroy(new Error('no answer in 120 s')));
    req.on('error', (err) => resolve(err.message));
  });
}
async function node() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const m = await get(agent, base + '/manifests/v1', manifest);
    if (m !== 'ok') return ['manifest: ' + m];
    const got = await Promise.all(blobs.map((d) => get(agent, base + '/blobs/' + d, d)));
    return got.flatMap((r, i) => (r === 'ok' ? [] : [blobs[i] + ': ' + r]));
  } finally {
    agent.destroy();
  }
}
Promise.all(Array.from({ length: n }, node)).then((f) => parentPort.postMessage(f.flat()));
`;

function herdOf(n: number, repository: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HERD_THREAD, {
      eval: true,
      workerData: {
        base: `${b.url}/v2/${repository}`,
        manifest: image.manifestDigest,
        blobs: [image.configDigest, ...image.layerDigests],
        accept: MANIFEST_ACCEPT,
        n,
      },
    });
    worker.once('message', (failures: string[]) => {
      resolve(failures);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

test.each([1_000])(
  'a herd of %i nodes: none fails, and a is asked at most once per key per worker',
  async (n) => {
    const repository = `herd/n${n}`;
    await skopeoPush(image.dir, 'v1', { host: a.registry.host, repository });
    const reg = a.registry as CraneRegistry;
    await reg.clear();
    const before = await counters(b);
    const started = Date.now();
    const failures = await herdOf(n, repository);
    const herdMs = Date.now() - started;
    expect(failures.slice(0, 5)).toEqual([]);
    expect(failures).toHaveLength(0);
    // Rescued through b (every node's manifest at least), not served by b itself.
    expect((await counters(b)).redirects - before.redirects).toBeGreaterThanOrEqual(n);
    // geosync's default worker count (`listen.workers: 0`: one per available core).
    const workers = workerCount(0);
    const keys = [
      `/v2/${repository}/manifests/v1`,
      `/v2/${repository}/manifests/${image.manifestDigest}`,
      ...[image.configDigest, ...image.layerDigests].map((d) => `/v2/${repository}/blobs/${d}`),
    ];
    const perKey = Object.fromEntries(
      await Promise.all(keys.map(async (k) => [k, await reg.lookups(k)] as const)),
    );
    // The tag was asked of a (how the herd learnt where the image is) ...
    expect(perKey[keys[0]!]).toBeGreaterThanOrEqual(1);
    // ... each key at most once per worker for as long as its answer is cached: a tag's entry
    // lives 5 s (`locate.cache.tagTtlMs`), and each new answer for it reads the manifest it names
    // once more (its bytes, by digest: what renews the blobs' 5 s hints), so in a herd that lasts
    // longer both come again; a blob's answer lasts the herd (`locate.cache.digestTtlMs`, 10 min).
    const perTagLife = workers * (1 + Math.floor(herdMs / 5_000));
    const bound = (k: string) => (k === keys[0] || k === keys[1] ? perTagLife : workers);
    expect(Object.entries(perKey).filter(([k, count]) => count > bound(k))).toEqual([]);
  },
);
