/**
 * A large layer (64 MiB) streamed from A through B's Envoy: skopeo pulls it from B, the bytes are
 * re-hashed from disk, and neither Envoy holds it whole (their allocated memory, sampled during the
 * transfer, stays far below the layer's size). Two regions on the filesystem driver: the proxied
 * path's streaming is under test, not the storage.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RegionDeployment } from '../support/stacks/deployment';
import { createOciImage } from '../support/oci/oci-image';
import { skopeoPush } from '../support/clients/skopeo';
import { digestsOf, expectPulledImage } from '../support/oci/layouts';
import { counters, pullFrom } from '../support/stacks/region-checks';
import { useDeployment } from '../support/stacks/use-deployment';
import { storedContent } from '../support/storage/region-storage';

jest.setTimeout(180_000);

const { d, a, b, tmp } = useDeployment({
  regions: ['a', 'b'],
  storage: 'filesystem',
});

const MiB = 1024 * 1024;
const ALLOCATED = 'server.memory_allocated';

/**
 * Each Envoy's `server.memory_allocated` gauge. `stat()` reads a missing stat as 0, and a peak of
 * 0 over a baseline of 0 would pass the bound below whatever Envoy held: a missing or zero gauge
 * fails here instead.
 */
async function allocated(envoys: readonly RegionDeployment['envoy'][]): Promise<number[]> {
  return Promise.all(
    envoys.map(async (e) => {
      const value = (await e.stats()).get(ALLOCATED);
      if (value === undefined || value <= 0) throw new Error(`${ALLOCATED} of ${e.adminUrl} reads ${value}`);
      return value;
    }),
  );
}

test('a 64 MiB layer is streamed from A through B: right size and digest, nothing stored in B', async () => {
  const dir = tmp.make('large');
  const image = createOciImage(path.join(dir, 'src'), { tag: 'big', layerSizes: [64 * MiB, 1024] });
  expect(image.layerSizes[0]).toBeGreaterThanOrEqual(64 * MiB);
  const repository = 'team/large';
  await skopeoPush(image.dir, 'big', { host: a.host, repository }, { timeoutMs: 120_000 });

  // An Envoy that buffered the layer instead of streaming it would allocate 64 MiB for it. Each
  // Envoy's allocated heap (its `server.memory_allocated` gauge) is sampled while the pull runs.
  const envoys = [a, b].map((r) => r.envoy);
  const baseline = await allocated(envoys);
  const peak = [...baseline];
  let samplesDuringPull = 0;
  let pulling = true;
  const sampling = (async () => {
    while (pulling) {
      const now = await allocated(envoys);
      if (!pulling) break;
      now.forEach((v, i) => (peak[i] = Math.max(peak[i] as number, v)));
      samplesDuringPull++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const before = await counters(b);
  const out = path.join(dir, 'pulled');
  try {
    await pullFrom(b, { repository, reference: 'big' }, out, {
      destTag: 'big',
      timeoutMs: 120_000,
    });
  } finally {
    pulling = false;
    await sampling;
  }
  await expectPulledImage(out, 'big', image);
  expect(fs.statSync(path.join(out, 'blobs', 'sha256', image.layerDigests[0]!.slice(7))).size).toBe(
    image.layerSizes[0],
  );
  const after = await counters(b);
  expect(after.redirects - before.redirects).toBeGreaterThanOrEqual(4);
  // The samples must have covered the transfer, or they prove nothing.
  expect(samplesDuringPull).toBeGreaterThanOrEqual(3);
  // Streaming keeps connection buffers only (Envoy's per-connection buffer limit is 1 MiB); a
  // layer held whole would add at least its 64 MiB.
  const grewMiB = peak.map((p, i) => Math.round((p - (baseline[i] as number)) / MiB));
  expect(grewMiB.every((g) => g < 32)).toBe(true);
  expect(await storedContent(d, b, repository, digestsOf(image))).toEqual({
    repositoryKeys: [],
    blobKeys: [],
  });
});
