/**
 * One lookup per rescued pull, against real object storage: Swift S3 buckets written by real
 * distribution registries that skopeo pushed to. Once the locator finds a manifest in a sibling
 * (by tag, or an index by digest), it reads that manifest there once; the lookups of the blobs
 * it names are then answered from the cache, with no storage request. An index's children are
 * looked up like any manifest (a registry may accept an index whose children it lacks).
 * Storage requests are counted by a pass-through probe around the real S3Probe.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import type { ContentsOutcome } from '../../../src/locate/manifest-contents';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import type { ListOptions, ObjectProbe, ReadOptions } from '../../../src/storage/probe';
import { S3Probe } from '../../../src/storage/s3-probe';
import { ManualClock } from '../../support/clock';
import { startGeoStack, type GeoStack } from '../../support/stacks/geo-stack';
import { createOciImage, createOciIndex, MANIFEST_ACCEPT } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { locatorOptions, REAL_STORAGE } from '../../support/locator-options';

jest.setTimeout(120_000);

const OPTIONS: ProbeLocatorOptions = locatorOptions({ ...REAL_STORAGE, manifestContents: true });

/** The real probe, counting every storage request it makes. */
class CountingProbe implements ObjectProbe {
  requests = 0;
  constructor(private readonly inner: ObjectProbe) {}
  get region() {
    return this.inner.region;
  }
  head(key: string, opts: { signal: AbortSignal }) {
    this.requests++;
    return this.inner.head(key, opts);
  }
  read(key: string, opts: ReadOptions) {
    this.requests++;
    return this.inner.read(key, opts);
  }
  list(prefix: string, opts: ListOptions) {
    this.requests++;
    return this.inner.list(prefix, opts);
  }
  close() {
    return this.inner.close();
  }
}

let stack: GeoStack | undefined;
let tmp: string;
const probes: CountingProbe[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-contents-'));
  stack = await startGeoStack({ regions: ['b', 'c'] });
});

afterAll(async () => {
  await Promise.all(probes.map((p) => p.close()));
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function locator(): { l: ProbeLocator; b: CountingProbe; c: CountingProbe; outcomes: ContentsOutcome[] } {
  const [b, c] = ['b', 'c'].map((name) => new CountingProbe(new S3Probe(name, stack!.region(name).storage)));
  probes.push(b!, c!);
  const outcomes: ContentsOutcome[] = [];
  const l = new ProbeLocator(
    [
      { region: 'b', probe: b! },
      { region: 'c', probe: c! },
    ],
    OPTIONS,
    { clock: new ManualClock(), observer: { manifestContents: (_r, o) => outcomes.push(o) } },
  );
  return { l, b: b!, c: c!, outcomes };
}

const d = (digest: string) => parseDigest(digest)!;

/** The config and layers of a manifest as the registry stores it (skopeo may recompress layers). */
async function storedBlobs(host: string, repository: string, reference: string): Promise<string[]> {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT },
    signal: AbortSignal.timeout(30_000),
  });
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return [m.config.digest, ...m.layers.map((l) => l.digest)];
}
/** Until the locator has read `n` found manifests (each read runs after its lookup answered). */
async function readsDone(outcomes: readonly ContentsOutcome[], n: number): Promise<void> {
  for (let i = 0; i < 600 && outcomes.length < n; i++) await new Promise((r) => setTimeout(r, 50));
}

/** A bound for a hung test only: the locator's own clock never runs out. */
const locate = (l: ProbeLocator, target: PullTarget) => l.locate(target, AbortSignal.timeout(60_000));

test('the config and layers after a manifest found by tag make no storage request', async () => {
  const image = createOciImage(path.join(tmp, 'image'), { tag: 'v1', layerSizes: [2048, 4096] });
  await skopeoPush(image.dir, 'v1', { host: stack!.region('c').registry.host, repository: 'team/app' });
  const { l, b, c, outcomes } = locator();
  const tag: PullTarget = { kind: 'manifest_by_tag', repository: 'team/app', tag: 'v1' };
  expect(await locate(l, tag)).toMatchObject({ outcome: 'found', region: 'c' });
  await readsDone(outcomes, 1);
  expect(outcomes).toEqual(['learnt']);
  const afterManifest = b.requests + c.requests;

  const blobs = await storedBlobs(stack!.region('c').registry.host, 'team/app', 'v1');
  for (const digest of blobs) {
    expect(await locate(l, { kind: 'blob', repository: 'team/app', digest: d(digest) })).toMatchObject({
      outcome: 'found',
      region: 'c',
    });
  }
  expect(b.requests + c.requests - afterManifest).toBe(0);
  await l.close();
});

test("an index's child manifests are looked up (an index is a hint), and the blobs after each child make no storage request", async () => {
  const index = createOciIndex(path.join(tmp, 'index'), { tag: 'multi' });
  await skopeoPush(index.dir, 'multi', { host: stack!.region('b').registry.host, repository: 'team/multi' });
  const { l, b, c, outcomes } = locator();
  const byDigest: PullTarget = {
    kind: 'manifest_by_digest',
    repository: 'team/multi',
    digest: d(index.indexDigest),
  };
  expect(await locate(l, byDigest)).toMatchObject({ outcome: 'found', region: 'b' });
  await readsDone(outcomes, 1);
  for (const [i, child] of index.manifests.entries()) {
    const target: PullTarget = {
      kind: 'manifest_by_digest',
      repository: 'team/multi',
      digest: d(child.manifestDigest),
    };
    const beforeChild = b.requests + c.requests;
    expect(await locate(l, target)).toMatchObject({ outcome: 'found', region: 'b' });
    // A registry may hold an index without its children: the child is asked of storage.
    expect(b.requests + c.requests).toBeGreaterThan(beforeChild);
    await readsDone(outcomes, i + 2);
    const afterChild = b.requests + c.requests;
    for (const digest of await storedBlobs(
      stack!.region('b').registry.host,
      'team/multi',
      child.manifestDigest,
    )) {
      expect(await locate(l, { kind: 'blob', repository: 'team/multi', digest: d(digest) })).toMatchObject({
        outcome: 'found',
        region: 'b',
      });
    }
    expect(b.requests + c.requests).toBe(afterChild);
  }
  expect(outcomes).toEqual(index.manifests.map(() => 'learnt').concat('learnt'));
  await l.close();
});
