/**
 * What a region's own storage holds (S3 bucket, Azure container, GCS bucket or directory), and
 * replication by the S3 API as a pipeline would do it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deployment, RegionDeployment } from '../stacks/deployment';
import { blobDataKey, listObjects, replicateBucket, repositoryPrefix } from './s3-layout';

/** Every key under `prefix` in `bucket` (paginated). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await listObjects(client, bucket, prefix)).map((o) => o.key);
}

function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    const child = path.posix.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(root, child));
    else out.push(child);
  }
  return out;
}

/** Keys (storage paths) under `prefix` in a region's own storage, bucket or directory. */
export async function storageKeys(
  d: Deployment,
  region: RegionDeployment,
  prefix: string,
): Promise<string[]> {
  if (region.backend === 'azure' && d.azurite && region.bucket) {
    const keys: string[] = [];
    for await (const blob of d.azurite.containerClient(region.bucket).listBlobsFlat({ prefix }))
      keys.push(blob.name);
    return keys;
  }
  if (region.backend === 'gcs' && d.gcs && region.bucket) {
    const [files] = await d.gcs.storage().bucket(region.bucket).getFiles({ prefix });
    return files.map((f) => f.name);
  }
  if (region.bucket) {
    if (!d.swift) throw new Error('s3 region without Swift');
    return listKeys(storageClient(d), region.bucket, prefix);
  }
  if (!region.storageRoot) throw new Error(`region ${region.name} has no storage`);
  return listFiles(region.storageRoot, prefix);
}

const clients = new WeakMap<Deployment, S3Client>();

/** One S3 client per deployment (straight to Swift, not through any region's proxy). */
export function storageClient(d: Deployment): S3Client {
  if (!d.swift) throw new Error('deployment has no S3');
  let c = clients.get(d);
  if (!c) {
    c = d.swift.client();
    clients.set(d, c);
  }
  return c;
}

export { blobDataKey, repositoryPrefix };

/**
 * What a region's storage holds of `repository` and of the blobs `digests`: the repository's keys
 * (links, tags, uploads) and the blob data keys present. Both empty means nothing was written.
 */
export async function storedContent(
  d: Deployment,
  region: RegionDeployment,
  repository: string,
  digests: readonly string[],
): Promise<{ repositoryKeys: string[]; blobKeys: string[] }> {
  const repositoryKeys = await storageKeys(d, region, repositoryPrefix(repository));
  const blobKeys: string[] = [];
  for (const digest of digests) {
    const key = blobDataKey(digest);
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    if ((await storageKeys(d, region, dir)).includes(key)) blobKeys.push(key);
  }
  return { repositoryKeys, blobKeys };
}

/** Replication as a pipeline would do it (test/support/storage/s3-layout.ts); returns the keys copied. */
export async function replicateS3(
  d: Deployment,
  from: RegionDeployment,
  to: RegionDeployment,
  repository: string,
  digests: readonly string[],
): Promise<string[]> {
  if (!from.bucket || !to.bucket) throw new Error('replicateS3 needs two S3 regions');
  return (await replicateBucket(storageClient(d), from.bucket, to.bucket, repository, digests)).keys;
}
