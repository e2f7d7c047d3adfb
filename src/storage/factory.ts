/** Builds the ObjectProbe for a region's configured storage. */
import type { RegionConfig } from '../config/types';
import { AzureProbe } from './azure-probe';
import { FsProbe } from './fs-probe';
import { GcsProbe } from './gcs-probe';
import type { ObjectProbe } from './probe';
import { S3Probe } from './s3-probe';

export function probeFor(region: RegionConfig): ObjectProbe {
  switch (region.storage.type) {
    case 'filesystem':
      return new FsProbe(region.name, region.storage.root);
    case 's3':
      return new S3Probe(region.name, region.storage);
    case 'azure':
      return new AzureProbe(region.name, region.storage);
    case 'gcs':
      return new GcsProbe(region.name, region.storage);
  }
}
