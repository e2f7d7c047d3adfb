/**
 * The test support itself: Swift S3, distribution on both drivers (with and without auth), generated
 * OCI layouts and skopeo. Other suites build on these; a failure here points at the environment,
 * not at geosync.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createOciImage, createOciIndex } from '../../support/oci/oci-image';
import { startRegistry, type Registry } from '../../support/registries/registry';
import { skopeoInspectRaw, skopeoPull, skopeoPush } from '../../support/clients/skopeo';
import { testSwift } from '../../support/storage/shared-swift';
import type { SwiftS3 } from '../../support/storage/swift';
import { StorageRequestLog } from '../../bench/tools/storage-requests';
import { until } from '../../support/process';

const keys = (log: StorageRequestLog): string[] => log.requests.map((r) => r.key);

jest.setTimeout(90_000);

describe('test support', () => {
  let swift: SwiftS3;
  const registries: Registry[] = [];
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-stack-test-'));
    swift = await testSwift();
  });
  afterAll(async () => {
    await Promise.all(registries.map((r) => r.stop()));
    await swift?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Swift creates buckets and stores objects over the S3 API', async () => {
    await swift.createBucket('objects');
    const s3 = swift.client();
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'a/b', Body: 'hello' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'a/b' }));
    expect(head.ContentLength).toBe(5);
  });

  it("two users of the run's Swift: same bucket names apart, each access log its own", async () => {
    const logs = [await StorageRequestLog.start(), await StorageRequestLog.start()];
    const users = [
      await testSwift({ accessLogUdpPort: logs[0]!.port }),
      await testSwift({ accessLogUdpPort: logs[1]!.port }),
    ];
    try {
      // One Swift (the run's), two accounts.
      expect(users[1]!.endpoint).toBe(users[0]!.endpoint);
      expect(users[1]!.accessKeyId).not.toBe(users[0]!.accessKeyId);
      for (const [i, u] of users.entries()) {
        await u.createBucket('same');
        await u.client().send(new PutObjectCommand({ Bucket: 'same', Key: 'k', Body: `user ${i}` }));
      }
      for (const [i, u] of users.entries()) {
        const got = await u.client().send(new GetObjectCommand({ Bucket: 'same', Key: 'k' }));
        expect(await got.Body!.transformToString()).toBe(`user ${i}`);
        await u
          .client()
          .send(new HeadObjectCommand({ Bucket: 'same', Key: `only-${i}` }))
          .catch(() => {});
      }
      // Each log holds its own user's HEAD of a missing key; once both arrived, neither the other's.
      for (const [i, log] of logs.entries()) {
        await until(`user ${i}'s HEAD in its log`, async () => keys(log).includes(`only-${i}`), 10_000);
      }
      expect(logs.map((log, i) => keys(log).includes(`only-${1 - i}`))).toEqual([false, false]);
    } finally {
      await Promise.all(users.map((u) => u.stop()));
      for (const log of logs) log.close();
    }
  });

  it('pushes an index to distribution on S3 (with auth) and pulls a child by digest', async () => {
    await swift.createBucket('region-a');
    const creds = { username: 'alice', password: 's3cret' };
    const reg = await startRegistry({ storage: { type: 's3', s3: swift, bucket: 'region-a' }, auth: creds });
    registries.push(reg);
    const anonymous = await fetch(`${reg.url}/v2/`);
    expect(anonymous.status).toBe(401);

    const index = createOciIndex(path.join(tmp, 'index'), { tag: 'v1' });
    await skopeoPush(index.dir, 'v1', { host: reg.host, repository: 'team/app' }, { creds });
    const raw = await skopeoInspectRaw(
      { host: reg.host, repository: 'team/app', reference: 'v1' },
      { creds },
    );
    expect(JSON.parse(raw).manifests).toHaveLength(2);

    const child = index.manifests[1]!;
    const key = `docker/registry/v2/repositories/team/app/_manifests/revisions/sha256/${child.manifestDigest.slice(7)}/link`;
    const head = await swift.client().send(new HeadObjectCommand({ Bucket: 'region-a', Key: key }));
    expect(head.ContentLength).toBe(child.manifestDigest.length);

    await skopeoPull(
      { host: reg.host, repository: 'team/app', reference: child.manifestDigest },
      path.join(tmp, 'pulled'),
      { creds },
    );
    expect(fs.existsSync(path.join(tmp, 'pulled', 'blobs', 'sha256', child.layerDigests[0]!.slice(7)))).toBe(
      true,
    );
  });

  it('pushes an image to distribution on the filesystem driver', async () => {
    const root = path.join(tmp, 'fs-root');
    const reg = await startRegistry({ storage: { type: 'filesystem', root } });
    registries.push(reg);
    const image = createOciImage(path.join(tmp, 'image'), { tag: 'latest', layerSizes: [10_000] });
    await skopeoPush(image.dir, 'latest', { host: reg.host, repository: 'library/alpine' });
    const link = path.join(
      root,
      'docker/registry/v2/repositories/library/alpine/_manifests/tags/latest/current/link',
    );
    expect(fs.readFileSync(link, 'utf8')).toBe(image.manifestDigest);
    await reg.stop();
    await reg.stop();
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
  });
});
