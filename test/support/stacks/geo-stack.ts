/**
 * A geo-replicated registry on one machine: one Swift S3 with a bucket per region and one real
 * distribution registry per region writing into its bucket. Regions are independent (no
 * replication): a test puts content where it wants it with skopeo and the S3 API.
 */
import type { S3Storage } from '../../../src/config/types';
import { startRegistry, type Registry } from '../registries/registry';
import { testSwift } from '../storage/shared-swift';
import type { SwiftS3 } from '../storage/swift';

export interface GeoRegion {
  readonly name: string;
  readonly bucket: string;
  readonly registry: Registry;
  /** geosync's storage config for this region. */
  readonly storage: S3Storage;
}

export interface GeoStack {
  readonly swift: SwiftS3;
  readonly regions: readonly GeoRegion[];
  region(name: string): GeoRegion;
  /** Stops every registry and Swift; idempotent. */
  stop(): Promise<void>;
}

export function s3StorageFor(
  swift: SwiftS3,
  bucket: string,
  overrides: Partial<Omit<S3Storage, 'type'>> = {},
): S3Storage {
  return {
    type: 's3',
    bucket,
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    rootDirectory: '',
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    requestTimeoutMs: 1_000,
    ...overrides,
  };
}

export async function startGeoStack(opts: {
  readonly regions: readonly string[];
  readonly auth?: { readonly username: string; readonly password: string };
}): Promise<GeoStack> {
  const swift = await testSwift();
  const regions: GeoRegion[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(regions.map((r) => r.registry.stop()));
      await swift.stop();
    })();
    return stopped;
  };
  try {
    for (const name of opts.regions) {
      const bucket = `region-${name}`;
      await swift.createBucket(bucket);
      const registry = await startRegistry({
        storage: { type: 's3', s3: swift, bucket },
        ...(opts.auth ? { auth: opts.auth } : {}),
      });
      regions.push({ name, bucket, registry, storage: s3StorageFor(swift, bucket) });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    swift,
    regions,
    region(name: string): GeoRegion {
      const r = regions.find((x) => x.name === name);
      if (!r) throw new Error(`no region ${name}`);
      return r;
    },
    stop,
  };
}
