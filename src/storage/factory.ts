/** Builds the ObjectProbe for a region: its storage, or its registry's API (`lookup: registry`). */
import type { RegionConfig, StorageConfig } from '../config/types';
import { RegistryProbe } from '../registry-api/probe';
import { AzureProbe } from './azure-probe';
import { FsProbe } from './fs-probe';
import { GcsProbe } from './gcs-probe';
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
    case 'azure':
      return new AzureProbe(name, storage);
    case 'gcs':
      return new GcsProbe(name, storage);
  }
}
