/**
 * Storage keys for distribution's storage layout, relative to `<rootdirectory>/docker/registry/v2`.
 * See distribution's registry/storage/paths.go: a repository serves a blob only if its `_layers`
 * link exists (even when another repository's push put the blob data in the global store), so the
 * link is what must be probed; the data object is probed too when configured, because replication
 * may copy a link before its data.
 */
import type { Digest } from '../oci/reference';
import type { PullTarget } from '../oci/pull';

/** Where distribution keeps everything below its configured root directory. */
export const REGISTRY_V2_ROOT = 'docker/registry/v2';

/**
 * The object name of a layout key in a bucket or container whose registry has this `rootdirectory`
 * ('' or '/' = the root): what the S3, Azure Blob and GCS probes ask for.
 */
export function objectKey(rootDirectory: string, key: string): string {
  const root = rootDirectory.replace(/^\/+|\/+$/g, '');
  return root ? `${root}/${REGISTRY_V2_ROOT}/${key}` : `${REGISTRY_V2_ROOT}/${key}`;
}

/**
 * A key distribution never writes (its layout has only `repositories/` and `blobs/`): the
 * start-up look at a region (src/locate/warm-up.ts) asks it to open the connection lookups will
 * use, and learns the round trip from the "not there" it gets.
 */
export const WARM_UP_KEY = '_geosync/warm-up';

/** The global blob store's data keys: no repository, so a registry's API has nothing to ask. */
export function isBlobDataKey(key: string): boolean {
  return key.startsWith('blobs/');
}

export function blobDataKey(d: Digest): string {
  return `blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`;
}

export function layerLinkKey(repository: string, d: Digest): string {
  return `repositories/${repository}/_layers/${d.algorithm}/${d.hex}/link`;
}

export function manifestRevisionLinkKey(repository: string, d: Digest): string {
  return `repositories/${repository}/_manifests/revisions/${d.algorithm}/${d.hex}/link`;
}

export function tagCurrentLinkKey(repository: string, tag: string): string {
  return `repositories/${repository}/_manifests/tags/${tag}/current/link`;
}

/** The tag's history: one link per digest the tag ever pointed at in this region. */
export function tagIndexLinkKey(repository: string, tag: string, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return `repositories/${repository}/_manifests/tags/${tag}/index/${algorithm}/${hex}/link`;
}

/**
 * Every key that must exist for a region's registry to serve `target`. The first key is the
 * one whose LastModified dates the content (the repository's own link).
 */
export function keysFor(target: PullTarget, opts: { probeBlobData: boolean }): string[] {
  switch (target.kind) {
    case 'blob':
      return opts.probeBlobData
        ? [layerLinkKey(target.repository, target.digest), blobDataKey(target.digest)]
        : [layerLinkKey(target.repository, target.digest)];
    case 'manifest_by_digest':
      return opts.probeBlobData
        ? [manifestRevisionLinkKey(target.repository, target.digest), blobDataKey(target.digest)]
        : [manifestRevisionLinkKey(target.repository, target.digest)];
    case 'manifest_by_tag':
      return [tagCurrentLinkKey(target.repository, target.tag)];
  }
}

/** The folder that holds one sub-folder per tag of a repository (what `tags/list` lists). */
export function tagsFolderKey(repository: string): string {
  return `repositories/${repository}/_manifests/tags/`;
}
