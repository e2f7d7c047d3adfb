/**
 * Failure isolation against real components: siblings whose S3 endpoint is down (a closed port)
 * or never answers (a TCP server that accepts and stays silent) are listed *before* the healthy
 * region b, the worst order for latency. The lookup deadline must hold, their breakers must open,
 * and b must still answer. Also: a region whose registry is down is not chosen (health check), via
 * the locator `geosync serve` builds from its configuration.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLocator } from '../../../src/app/locator-factory';
import { validateConfig } from '../../../src/config/validate';
import type { BreakerState } from '../../../src/locate/breaker';
import type { Locator } from '../../../src/locate/locator';
import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import { S3Probe } from '../../../src/storage/s3-probe';
import { s3StorageFor, startGeoStack, type GeoStack } from '../../support/geo-stack';
import { createOciImage, type OciImage } from '../../support/oci-image';
import { skopeoPush } from '../../support/skopeo';
import { closedPort, startBlackhole, type Blackhole } from '../../support/tcp-blackhole';

jest.setTimeout(120_000);

const DEADLINE_MS = 150;
const OPTIONS: ProbeLocatorOptions = {
  probeBlobData: true,
  hedgeMs: 10,
  lookupTimeoutMs: DEADLINE_MS,
  maxConcurrentProbesPerRegion: 64,
  cache: { maxEntries: 1000, maxBytes: 1 << 20, digestTtlMs: 600_000, tagTtlMs: 5_000, negativeTtlMs: 0 },
  breaker: { failureThreshold: 3, coolDownMs: 60_000 },
  keepWarmIntervalMs: 0,
};

let stack: GeoStack | undefined;
let hole: Blackhole | undefined;
let tmp: string;
let image: OciImage;
const locators: Locator[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-locate-failures-'));
  hole = await startBlackhole();
  stack = await startGeoStack({ regions: ['b', 'c'] });
  image = createOciImage(path.join(tmp, 'image'), { tag: 'v1', layerSizes: [2048] });
  for (const r of ['b', 'c']) {
    await skopeoPush(image.dir, 'v1', { host: stack.region(r).registry.host, repository: 'team/app' });
  }
});

afterAll(async () => {
  await Promise.all(locators.map((l) => l.close()));
  await stack?.stop();
  await hole?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const target = (): PullTarget => ({
  kind: 'manifest_by_digest',
  repository: 'team/app',
  digest: parseDigest(image.manifestDigest)!,
});
const absent: PullTarget = { kind: 'manifest_by_tag', repository: 'team/app', tag: 'nowhere' };

/** Envoy's view: the lookup is cancelled at the deadline, whatever the locator does. */
async function timed(l: Locator, t: PullTarget) {
  const started = performance.now();
  const result = await l.locate(t, AbortSignal.timeout(DEADLINE_MS));
  return { result, ms: performance.now() - started };
}

async function failingSiblings() {
  const swift = stack!.swift;
  const states: string[] = [];
  const down = await closedPort();
  const siblings = [
    { region: 'slow', probe: new S3Probe('slow', s3StorageFor(swift, 'region-x', { endpoint: hole!.url })) },
    {
      region: 'down',
      probe: new S3Probe('down', s3StorageFor(swift, 'region-x', { endpoint: `http://127.0.0.1:${down}` })),
    },
    { region: 'b', probe: new S3Probe('b', stack!.region('b').storage) },
  ];
  const l = new ProbeLocator(siblings, OPTIONS, {
    observer: { breakerState: (r: string, s: BreakerState) => states.push(`${r}:${s}`) },
  });
  locators.push(l);
  return { l, states };
}

describe('failure isolation (Swift S3 + distribution)', () => {
  it('a region that never answers does not delay an answer b can give', async () => {
    const { l } = await failingSiblings();
    const { result, ms } = await timed(l, target());
    expect(result).toMatchObject({ outcome: 'found', region: 'b' });
    expect(ms).toBeLessThan(DEADLINE_MS);
  });

  it('the deadline holds when a region never answers and no region holds the target', async () => {
    const { l } = await failingSiblings();
    const { result, ms } = await timed(l, absent);
    expect(result).toEqual({ outcome: 'timeout' });
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(ms).toBeLessThan(DEADLINE_MS + 50);
  });

  it('breakers of the silent and the refusing region open; then misses are answered at once', async () => {
    const { l, states } = await failingSiblings();
    for (let i = 0; i < OPTIONS.breaker.failureThreshold; i++) {
      expect((await timed(l, { ...absent, tag: `nowhere-${i}` })).result.outcome).toBe('timeout');
    }
    // The waiter leaves at the deadline; the shared lookup records the silent region right after.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(states.sort()).toEqual(['down:open', 'slow:open']);
    const connectionsBefore = hole!.connections;
    const { result, ms } = await timed(l, { ...absent, tag: 'nowhere-after' });
    expect(result).toEqual({ outcome: 'not_found' });
    expect(ms).toBeLessThan(DEADLINE_MS / 2);
    expect(hole!.connections).toBe(connectionsBefore);
    expect((await timed(l, target())).result).toMatchObject({ outcome: 'found', region: 'b' });
  });

  it('a region whose registry is down is not chosen, even though its storage answers (health check)', async () => {
    const swift = stack!.swift;
    const region = (name: string, url: string) => ({
      name,
      url,
      storage: {
        type: 's3',
        bucket: `region-${name}`,
        endpoint: swift.endpoint,
        region: swift.region,
        forcePathStyle: true,
        accessKeyId: swift.accessKeyId,
        secretAccessKey: swift.secretAccessKey,
      },
    });
    const downRegistry = `http://127.0.0.1:${await closedPort()}`;
    const validated = validateConfig({
      region: 'a',
      listen: { grpc: '127.0.0.1:0', admin: '127.0.0.1:0' },
      lookupTimeoutMs: DEADLINE_MS,
      regions: [
        { name: 'a', url: 'http://127.0.0.1:1', storage: { type: 'filesystem', root: tmp } },
        // c's storage holds the image, but c's registry does not answer.
        region('c', downRegistry),
        region('b', stack!.region('b').registry.url),
      ],
      preference: ['c', 'b'],
      locate: { healthCheck: { enabled: true, intervalMs: 100, timeoutMs: 100, unhealthyThreshold: 1 } },
    });
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    const health: string[] = [];
    const l = buildLocator(validated.config, {
      observer: { regionHealth: (r, up) => health.push(`${r}:${up}`) },
    });
    locators.push(l);
    const deadline = Date.now() + 5_000;
    while (!health.includes('c:false') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(health).toEqual(['c:false']);
    expect((await timed(l, target())).result).toMatchObject({ outcome: 'found', region: 'b' });
  });
});
