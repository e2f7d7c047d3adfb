/**
 * A large layer (64 MiB) streamed from A through B's Envoy: skopeo pulls it from B, the bytes are
 * re-hashed from disk, and the simulated Envoys (in this process) never hold it whole. Two regions
 * on the filesystem driver: the proxy's streaming is under test, not the storage.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startDeployment, type Deployment, type RegionDeployment } from '../support/deployment';
import { createOciImage } from '../support/oci-image';
import { skopeoPush } from '../support/skopeo';
import {
  E2E_LOOKUP_TIMEOUT_MS,
  TempDirs,
  counters,
  digestsOf,
  expectPulledImage,
  storedContent,
  pullFrom,
} from './helpers';

jest.setTimeout(180_000);

let d: Deployment;
let a: RegionDeployment;
let b: RegionDeployment;
const tmp = new TempDirs();

beforeAll(async () => {
  d = await startDeployment({
    regions: ['a', 'b'],
    storage: 'filesystem',
    lookupTimeoutMs: E2E_LOOKUP_TIMEOUT_MS,
  });
  [a, b] = [d.region('a'), d.region('b')];
});
afterAll(async () => {
  await d?.stop();
  tmp.removeAll();
});

const MiB = 1024 * 1024;

/** Buffer memory still referenced: `arrayBuffers` right after a full collection. */
function liveBufferBytes(): () => number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return () => {
    gc();
    return process.memoryUsage().arrayBuffers;
  };
}

test('a 64 MiB layer is streamed from A through B: right size and digest, nothing stored in B', async () => {
  const dir = tmp.make('large');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'big', layerSizes: [64 * MiB, 1024] });
  expect(image.layerSizes[0]).toBeGreaterThanOrEqual(64 * MiB);
  const repository = 'team/large';
  await skopeoPush(image.dir, 'big', { host: a.host, repository }, { timeoutMs: 120_000 });

  // The Envoy simulator runs in this process: if it buffered the layer instead of streaming it,
  // this process would hold 64 MiB of it at once. Live buffer memory is sampled after a full GC
  // (without one, garbage chunks awaiting collection look like buffering).
  const sample = liveBufferBytes();
  const baseline = sample();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 250);
  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  try {
    await pullFrom(b, { repository, reference: 'big' }, out, {
      destTag: 'big',
      timeoutMs: 120_000,
    });
  } finally {
    clearInterval(sampler);
  }
  await expectPulledImage(out, 'big', image);
  expect(fs.statSync(path.join(out, 'blobs', 'sha256', image.layerDigests[0]!.slice(7))).size).toBe(
    image.layerSizes[0],
  );
  const after = await counters(b);
  expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(4);
  // Streaming keeps socket and stream buffers only (tens of MiB at most, some of it not yet swept);
  // a layer held whole by either simulated Envoy would add at least its 64 MiB.
  expect(peak - baseline).toBeLessThan(48 * MiB);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});
