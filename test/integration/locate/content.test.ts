/**
 * The locator against real object storage: Swift S3 with one bucket per region, each written by a
 * real distribution registry (s3 driver) that skopeo pushed to. This region is `a`; its siblings
 * are b, c and d, preferred in that order.
 *
 * The locators run on an injected clock that only the test moves: hedge windows and deadlines
 * never close on their own, so which region is chosen depends on preference and on what the
 * storage holds, never on which real Swift answer happens to come first on a loaded machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { LocateResult } from '../../../src/locate/locator';
import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import { blobDataKey, REGISTRY_V2_ROOT } from '../../../src/storage/keys';
import type { ObjectProbe } from '../../../src/storage/probe';
import { buildS3Client, S3Probe } from '../../../src/storage/s3-probe';
import { ManualClock } from '../../support/clock';
import { startGeoStack, type GeoStack } from '../../support/stacks/geo-stack';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { locatorOptions, REAL_STORAGE } from '../../support/locator-options';

jest.setTimeout(120_000);

const OPTIONS: ProbeLocatorOptions = locatorOptions(REAL_STORAGE);

let stack: GeoStack | undefined;
let tmp: string;
const closers: ObjectProbe[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-locate-'));
  stack = await startGeoStack({ regions: ['b', 'c', 'd'] });
});

afterAll(async () => {
  await Promise.all(closers.map((p) => p.close()));
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function locator(
  order: readonly string[] = ['b', 'c', 'd'],
  opts: Partial<ProbeLocatorOptions> = {},
  clock = new ManualClock(),
) {
  const siblings = order.map((name) => {
    const probe = new S3Probe(name, stack!.region(name).storage);
    closers.push(probe);
    return { region: name, probe };
  });
  return new ProbeLocator(siblings, { ...OPTIONS, ...opts }, { clock });
}

let n = 0;
async function pushNew(regions: readonly string[], repository = 'team/app', tag = 'v1'): Promise<OciImage> {
  const image = createOciImage(path.join(tmp, `image-${n++}`), { tag, layerSizes: [2048] });
  for (const r of regions)
    await skopeoPush(image.dir, tag, { host: stack!.region(r).registry.host, repository });
  return image;
}

const d = (digest: string) => parseDigest(digest)!;
const blob = (image: OciImage, repository = 'team/app'): PullTarget => ({
  kind: 'blob',
  repository,
  digest: d(image.layerDigests[0]!),
});
const manifest = (image: OciImage): PullTarget => ({
  kind: 'manifest_by_digest',
  repository: 'team/app',
  digest: d(image.manifestDigest),
});
const tag = (t: string): PullTarget => ({ kind: 'manifest_by_tag', repository: 'team/app', tag: t });
/** A bound for a hung test only: the locators' own clocks never run out. */
const locate = (l: ProbeLocator, target: PullTarget): Promise<LocateResult> =>
  l.locate(target, AbortSignal.timeout(60_000));

describe('locating content in sibling regions (Swift S3 + distribution)', () => {
  it('finds a manifest and a blob held by one sibling only', async () => {
    const image = await pushNew(['c']);
    const l = locator();
    expect(await locate(l, manifest(image))).toMatchObject({ outcome: 'found', region: 'c' });
    expect(await locate(l, blob(image))).toMatchObject({ outcome: 'found', region: 'c' });
  });

  it('picks the preferred region when two hold it', async () => {
    const image = await pushNew(['c', 'd']);
    expect(await locate(locator(['b', 'c', 'd']), blob(image))).toMatchObject({ region: 'c' });
    expect(await locate(locator(['d', 'c', 'b']), blob(image))).toMatchObject({ region: 'd' });
  });

  it('answers not found for content no sibling holds', async () => {
    const image = createOciImage(path.join(tmp, 'never-pushed'));
    const l = locator();
    expect(await locate(l, manifest(image))).toEqual({ outcome: 'not_found' });
    expect(await locate(l, blob(image))).toEqual({ outcome: 'not_found' });
  });

  it('tells tags from digests', async () => {
    const image = await pushNew(['d'], 'team/app', 'release-7');
    const l = locator();
    expect(await locate(l, tag('release-7'))).toMatchObject({ outcome: 'found', region: 'd' });
    expect(await locate(l, tag('release-8'))).toEqual({ outcome: 'not_found' });
    expect(await locate(l, manifest(image))).toMatchObject({ outcome: 'found', region: 'd' });
  });

  it('a blob present only in another repository is not found (the registry would not serve it)', async () => {
    const image = await pushNew(['b'], 'other/app');
    const l = locator();
    expect(await locate(l, blob(image, 'other/app'))).toMatchObject({ outcome: 'found', region: 'b' });
    expect(await locate(l, blob(image, 'team/app'))).toEqual({ outcome: 'not_found' });
  });

  it('a link whose blob data has not arrived is not found (probeBlobData)', async () => {
    const image = await pushNew(['d']);
    const data = `${REGISTRY_V2_ROOT}/${blobDataKey(d(image.layerDigests[0]!))}`;
    await stack!.swift.client().send(new DeleteObjectCommand({ Bucket: 'region-d', Key: data }));
    expect(await locate(locator(), blob(image))).toEqual({ outcome: 'not_found' });
    expect(await locate(locator(['b', 'c', 'd'], { probeBlobData: false }), blob(image))).toMatchObject({
      outcome: 'found',
      region: 'd',
    });
  });

  it('a cached miss expires after negativeTtlMs and the content that arrived meanwhile is found', async () => {
    const ttl = 2_000;
    const clock = new ManualClock();
    const image = createOciImage(path.join(tmp, 'late'), { tag: 'late' });
    const l = locator(['b', 'c', 'd'], { cache: { ...OPTIONS.cache, negativeTtlMs: ttl } }, clock);
    expect(await locate(l, manifest(image))).toEqual({ outcome: 'not_found' });
    // However long the push takes, it lands while the miss is cached (the clock has not moved).
    await skopeoPush(image.dir, 'late', { host: stack!.region('c').registry.host, repository: 'team/app' });
    clock.advance(ttl - 1);
    expect(await locate(l, manifest(image))).toEqual({ outcome: 'not_found' });
    clock.advance(1);
    expect(await locate(l, manifest(image))).toMatchObject({ outcome: 'found', region: 'c' });
  });

  it('1,000 concurrent lookups of a new digest cause exactly one HeadObject per key and sibling', async () => {
    const image = await pushNew(['d']);
    const heads = new Map<string, number>();
    const siblings = ['b', 'c', 'd'].map((name) => {
      const storage = stack!.region(name).storage;
      const client = buildS3Client(storage);
      // Counts requests on the wire, below the locator and the probe.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'HeadObjectCommand') {
            const key = `${name} ${(args.input as { Key: string }).Key}`;
            heads.set(key, (heads.get(key) ?? 0) + 1);
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: 'countHeads' },
      );
      const probe = new S3Probe(name, storage, client);
      closers.push(probe);
      return { region: name, probe };
    });
    const l = new ProbeLocator(siblings, OPTIONS, { clock: new ManualClock() });
    const results = await Promise.all(Array.from({ length: 1000 }, () => locate(l, blob(image))));
    expect(results.filter((r) => r.outcome === 'found' && r.region === 'd')).toHaveLength(1000);
    // Two keys per region (the repository's link and the blob data), each asked once.
    const perRegion = (r: string) => [...heads].filter(([k]) => k.startsWith(`${r} `)).map(([, v]) => v);
    expect(perRegion('b')).toEqual([1, 1]);
    expect(perRegion('c')).toEqual([1, 1]);
    expect(perRegion('d')).toEqual([1, 1]);
  });
});
