/**
 * S3Probe against real Swift S3 holding content a real distribution registry wrote with its s3
 * driver, then the failure modes it must turn into values: refused connections, a peer that never
 * answers, wrong credentials, throttling and server errors.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { S3Probe } from '../../../src/storage/s3-probe';
import { tagCurrentLinkKey } from '../../../src/storage/keys';
import { startGeoStack, s3StorageFor, type GeoStack } from '../../support/stacks/geo-stack';
import { createOciImage } from '../../support/oci/oci-image';
import { skopeoPush } from '../../support/clients/skopeo';
import { closedPort, startBlackhole } from '../../support/net/tcp-blackhole';
import { probeContract, type ContractFixture } from './probe-contract';

jest.setTimeout(90_000);

let stack: GeoStack | undefined;
let tmp: string;
let fixture: ContractFixture;
const KEY = tagCurrentLinkKey('team/app', 'v1');
const signal = () => new AbortController().signal;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-s3-probe-'));
  stack = await startGeoStack({ regions: ['a'] });
  const a = stack.region('a');
  const image = createOciImage(path.join(tmp, 'layout'), { tag: 'v1', layerSizes: [3000, 5000] });
  const pushStartedAt = new Date();
  await skopeoPush(image.dir, 'v1', { host: a.registry.host, repository: 'team/app' });
  // A generous timeout: the contract is about answers; the one-worker Swift here is slow under load.
  fixture = {
    probe: new S3Probe('a', { ...a.storage, requestTimeoutMs: 5_000 }),
    image,
    repository: 'team/app',
    pushStartedAt,
    pushedAt: new Date(),
    registryUrl: a.registry.url,
  };
});

afterAll(async () => {
  await fixture?.probe.close();
  await stack?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

probeContract('S3Probe (Swift s3api)', () => fixture);

describe('S3Probe.check (start-up check of the storage itself)', () => {
  it('is quiet for the real bucket and names a bucket that does not exist', async () => {
    const a = (stack as GeoStack).region('a');
    expect(await (fixture.probe as S3Probe).check({ signal: signal() })).toBeUndefined();
    const wrong = new S3Probe('a', { ...a.storage, bucket: 'no-such-bucket', requestTimeoutMs: 5_000 });
    expect(await wrong.check({ signal: signal() })).toBe('bucket "no-such-bucket" does not exist');
    // The same typo is invisible to HeadObject: it answers like content that is not there yet.
    expect(await wrong.head(KEY, { signal: signal() })).toEqual({ status: 'not_found' });
    await wrong.close();
  });
});

describe('S3Probe failure modes', () => {
  it('a closed port is unavailable (refused, not waited for until the timeout)', async () => {
    const port = await closedPort();
    const probe = new S3Probe(
      'x',
      s3StorageFor(stack!.swift, 'region-a', {
        endpoint: `http://127.0.0.1:${port}`,
        requestTimeoutMs: 60_000,
      }),
    );
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({
      status: 'error',
      kind: 'unavailable',
    });
    await probe.close();
  });

  it('a peer that accepts and never answers times out at requestTimeoutMs', async () => {
    const hole = await startBlackhole();
    const probe = new S3Probe(
      'x',
      s3StorageFor(stack!.swift, 'region-a', { endpoint: hole.url, requestTimeoutMs: 200 }),
    );
    const started = performance.now();
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({ status: 'error', kind: 'timeout' });
    // Never before its timeout (timers do not fire early); how much later is the machine's business.
    expect(performance.now() - started).toBeGreaterThanOrEqual(199);
    expect(hole.connections).toBe(1);
    await probe.close();
    await hole.close();
  });

  it('the caller’s signal ends a probe with aborted, long before its own timeout', async () => {
    const hole = await startBlackhole();
    // Its own timeout would answer "timeout", after a minute: "aborted" shows the signal ended it.
    const probe = new S3Probe(
      'x',
      s3StorageFor(stack!.swift, 'region-a', { endpoint: hole.url, requestTimeoutMs: 60_000 }),
    );
    const controller = new AbortController();
    const answer = probe.head(KEY, { signal: controller.signal });
    // Abort once the request is on the wire (or after 30 s, which fails the test below anyway).
    for (const until = Date.now() + 30_000; hole.connections === 0 && Date.now() < until;)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hole.connections).toBe(1);
    controller.abort();
    expect(await answer).toMatchObject({
      status: 'error',
      kind: 'aborted',
    });
    await probe.close();
    await hole.close();
  });

  it('wrong credentials are denied', async () => {
    const probe = new S3Probe(
      'x',
      s3StorageFor(stack!.swift, 'region-a', {
        credentials: { accessKeyId: stack!.swift.accessKeyId, secretAccessKey: 'wrong' },
      }),
    );
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({ status: 'error', kind: 'denied' });
    await probe.close();
  });

  it('503 is throttled and 500 is unavailable; the SDK does not retry', async () => {
    let status = 503;
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests += 1;
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = new S3Probe('x', s3StorageFor(stack!.swift, 'region-a', { endpoint }));
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({ status: 'error', kind: 'throttled' });
    status = 500;
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({
      status: 'error',
      kind: 'unavailable',
    });
    expect(requests).toBe(2);
    await probe.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('honours rootDirectory', async () => {
    const probe = new S3Probe('x', s3StorageFor(stack!.swift, 'region-a', { rootDirectory: 'elsewhere' }));
    expect(await probe.head(KEY, { signal: signal() })).toEqual({ status: 'not_found' });
    await probe.close();
  });
});
