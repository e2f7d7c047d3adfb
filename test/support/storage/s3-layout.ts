/**
 * A region's bucket as the registry lays it out (src/storage/keys.ts), read and copied with the S3
 * API: listings, the keys of a repository and of a blob's data, and replication as a pipeline
 * would do it. Shared by the end-to-end tests and the benchmark.
 */
import {
  CopyObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parseDigest } from '../../../src/oci/reference';
import { blobDataKey as layoutBlobDataKey, REGISTRY_V2_ROOT } from '../../../src/storage/keys';

const S3_TIMEOUT_MS = 30_000;

/** Every object under `prefix` in `bucket` (paginated), with its size. */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix = '',
): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: AbortSignal.timeout(S3_TIMEOUT_MS) },
    );
    for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The object key of a blob's data, e.g. `docker/registry/v2/blobs/sha256/ab/ab…/data`. */
export function blobDataKey(digest: string): string {
  const parsed = parseDigest(digest);
  if (!parsed) throw new Error(`not a digest: ${digest}`);
  return `${REGISTRY_V2_ROOT}/${layoutBlobDataKey(parsed)}`;
}

export function repositoryPrefix(repository: string): string {
  return `${REGISTRY_V2_ROOT}/repositories/${repository}/`;
}

/**
 * Replication as a pipeline would do it, with the S3 API: copies the data of each blob in
 * `digests`, then every key of `repository` (links, tags, revisions; not unfinished uploads), from
 * one bucket to another: blobs first, so the destination never has a link without its data.
 * Returns the keys copied and their bytes.
 */
export async function replicateBucket(
  client: S3Client,
  from: string,
  to: string,
  repository: string,
  digests: readonly string[],
): Promise<{ keys: string[]; bytes: number }> {
  const links = (await listObjects(client, from, repositoryPrefix(repository))).filter(
    (o) => !o.key.includes('/_uploads/'),
  );
  const blobs = await Promise.all(
    digests.map(async (digest) => {
      const key = blobDataKey(digest);
      const found = await listObjects(client, from, key);
      return { key, size: found.find((o) => o.key === key)?.size ?? 0 };
    }),
  );
  const copied = [...blobs, ...links];
  for (const o of copied) {
    await client.send(
      new CopyObjectCommand({
        Bucket: to,
        Key: o.key,
        CopySource: `${from}/${o.key.split('/').map(encodeURIComponent).join('/')}`,
      }),
      { abortSignal: AbortSignal.timeout(S3_TIMEOUT_MS) },
    );
  }
  return { keys: copied.map((o) => o.key), bytes: copied.reduce((n, o) => n + o.size, 0) };
}
