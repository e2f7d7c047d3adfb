/** Builds the ObjectProbe for a region: its storage, or its registry's API (`lookup: registry`). */
import type { RegionConfig, StorageConfig } from '../config/types';
import { RegistryProbe } from '../registry-api/probe';
import { FsProbe } from './fs-probe';
import type { ObjectProbe } from './probe';
import { S3Probe } from './s3-probe';

/**
 * How geosync looks into `region` for the locator, tag freshness and the tag-list union.
 * `headers`: sent with every request to a registry (`lookup: registry`).
 */
export function probeFor(region: RegionConfig, headers: Readonly<Record<string, string>> = {}): ObjectProbe {
  if (region.lookup === 'registry')
    return new RegistryProbe(region.name, region.url, region.registry, { headers });
  return storageProbeFor(region.name, region.storage);
}

/** A probe of the region's storage itself, for what only storage knows (a tag's history). */
export function storageProbeFor(name: string, storage: StorageConfig): ObjectProbe {
  switch (storage.type) {
    case 'filesystem':
      return new FsProbe(name, storage.root);
    case 's3':
      return new S3Probe(name, storage);
    // Azure's and Google's SDKs load when a region uses them: together about half the CPU of a
    // `geosync serve` start (0.4 of 0.8 s on a 2-core machine), which every process and worker
    // paid whatever its storage.
    case 'azure': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { AzureProbe } = require('./azure-probe') as typeof import('./azure-probe');
      return new AzureProbe(name, storage);
    }
    case 'gcs': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { GcsProbe } = require('./gcs-probe') as typeof import('./gcs-probe');
      return new GcsProbe(name, storage);
    }
  }
}
