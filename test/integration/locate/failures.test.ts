/**
 * Failure isolation against real components: siblings whose S3 endpoint is down (a closed port)
 * or never answers (a TCP server that accepts and stays silent) are listed *before* the healthy
 * region b, the worst order for latency. The deadline must hold, their breakers must open, and b
 * must still answer. Also: a region whose registry is down is not chosen (health check), via the
 * locator `geosync serve` builds from its configuration.
 *
 * Deadlines and hedge windows run on an injected clock: time moves only when the test says, after
 * the real storage has answered, so a loaded machine changes how long a test takes, never what
 * it sees. Every real wait has a generous bound (`settles`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLocator } from '../../../src/app/locator-factory';
import { validateConfig } from '../../../src/config/validate';
import type { Locator } from '../../../src/locate/locator';
import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import { S3Probe } from '../../../src/storage/s3-probe';
import { ManualClock } from '../../support/clock';
import { s3StorageFor, startGeoStack, type GeoStack } from '../../support/stacks/geo-stack';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { closedPort, startBlackhole, type Blackhole } from '../../support/net/tcp-blackhole';
import { locatorOptions } from '../../support/locator-options';

jest.setTimeout(120_000);

const DEADLINE_MS = 150;
const HEDGE_MS = 10;
const OPTIONS: ProbeLocatorOptions = locatorOptions({
  hedgeMs: HEDGE_MS,
  lookupTimeoutMs: DEADLINE_MS,
  maxConcurrentProbesPerRegion: 64,
  cache: { maxEntries: 1000, maxBytes: 1 << 20, digestTtlMs: 600_000, tagTtlMs: 5_000, negativeTtlMs: 0 },
  breaker: { failureThreshold: 3, coolDownMs: 60_000 },
});
/** A bound on waiting for real components, far above what any of them needs. */
const REAL_WAIT_MS = 30_000;

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
const absent = (tag = 'nowhere'): PullTarget => ({ kind: 'manifest_by_tag', repository: 'team/app', tag });

/** Resolves with what `p` settles to, or with 'still pending' after `ms` of real time. */
function settles<T>(p: Promise<T>, ms = REAL_WAIT_MS): Promise<T | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'still pending'>(
    (resolve) => (timer = setTimeout(resolve, ms, 'still pending')),
  );
  return Promise.race([p, pending]).finally(() => clearTimeout(timer));
}

/** slow (never answers), down (refuses) and b (real Swift), in that preference order. */
async function failingSiblings() {
  const swift = stack!.swift;
  const clock = new ManualClock();
  const states: string[] = [];
  const answered = new Map<string, () => void>();
  const down = await closedPort();
  const siblings = [
    // The probe's own timeout must not end the silence before the test moves the clock.
    {
      region: 'slow',
      probe: new S3Probe(
        'slow',
        s3StorageFor(swift, 'region-x', { endpoint: hole!.url, requestTimeoutMs: 600_000 }),
      ),
    },
    {
      region: 'down',
      probe: new S3Probe('down', s3StorageFor(swift, 'region-x', { endpoint: `http://127.0.0.1:${down}` })),
    },
    { region: 'b', probe: new S3Probe('b', stack!.region('b').storage) },
  ];
  const l = new ProbeLocator(siblings, OPTIONS, {
    clock,
    observer: {
      breakerState: (r, s) => states.push(`${r}:${s}`),
      probeFinished: (r) => answered.get(r)?.(),
    },
  });
  locators.push(l);
  /** Starts a lookup and resolves once `regions` have answered it (real storage, real time). */
  const start = async (t: PullTarget, regions: readonly string[] = ['down', 'b']) => {
    const heard = regions.map((r) => new Promise<void>((resolve) => answered.set(r, resolve)));
    const result = l.locate(t, new AbortController().signal);
    expect(await settles(Promise.all(heard))).not.toBe('still pending');
    return { result };
  };
  return { l, clock, states, start };
}

describe('failure isolation (Swift S3 + distribution)', () => {
  it('a region that never answers does not delay an answer b can give', async () => {
    const { clock, start } = await failingSiblings();
    const { result } = await start(target());
    // b has answered; the silent, more preferred region gets the hedge window, not the deadline.
    clock.advance(HEDGE_MS);
    expect(await settles(result)).toMatchObject({ outcome: 'found', region: 'b' });
  });

  it('the deadline holds when a region never answers and no region holds the target', async () => {
    const { clock, start } = await failingSiblings();
    const { result } = await start(absent());
    clock.advance(DEADLINE_MS - 1);
    expect(await settles(result, 200)).toBe('still pending');
    clock.advance(1);
    expect(await settles(result)).toEqual({ outcome: 'timeout' });
  });

  it('breakers of the silent and the refusing region open; then misses are answered without waiting', async () => {
    const { l, clock, states, start } = await failingSiblings();
    for (let i = 0; i < OPTIONS.breaker.failureThreshold; i++) {
      const { result } = await start(absent(`nowhere-${i}`));
      clock.advance(DEADLINE_MS);
      expect(await settles(result)).toEqual({ outcome: 'timeout' });
    }
    // The silent region is judged once its lookup has ended (a few promise hops later).
    await settles(new Promise((resolve) => setImmediate(resolve)));
    expect(states.sort()).toEqual(['down:open', 'slow:open']);
    const connectionsBefore = hole!.connections;
    // The clock does not move: an answer now cannot have waited for any deadline.
    const miss = await settles(l.locate(absent('nowhere-after'), new AbortController().signal));
    expect(miss).toEqual({ outcome: 'not_found' });
    expect(hole!.connections).toBe(connectionsBefore);
    expect(await settles(l.locate(target(), new AbortController().signal))).toMatchObject({
      outcome: 'found',
      region: 'b',
    });
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
      // Generous: this test is about which region is chosen, not about speed.
      lookupTimeoutMs: 10_000,
      regions: [
        { name: 'a', url: 'http://127.0.0.1:1', storage: { type: 'filesystem', root: tmp } },
        // c's storage holds the image, but c's registry does not answer.
        region('c', downRegistry),
        region('b', stack!.region('b').registry.url),
      ],
      preference: ['c', 'b'],
      locate: { healthCheck: { enabled: true, intervalMs: 100, timeoutMs: 10_000, unhealthyThreshold: 1 } },
    });
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    const health: string[] = [];
    let cDown: () => void = () => {};
    const cIsDown = new Promise<void>((resolve) => (cDown = resolve));
    const l = buildLocator(validated.config, {
      observer: {
        regionHealth: (r, up) => {
          health.push(`${r}:${up}`);
          if (r === 'c' && !up) cDown();
        },
      },
    });
    locators.push(l);
    expect(await settles(cIsDown)).not.toBe('still pending');
    expect(await settles(l.locate(target(), AbortSignal.timeout(REAL_WAIT_MS)))).toMatchObject({
      outcome: 'found',
      region: 'b',
    });
    expect(health).not.toContain('b:false');
  });
});
