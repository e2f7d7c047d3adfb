/**
 * Which registry events are manifest pushes: what replication lag is measured on. distribution
 * sends a `push` event for every blob and every manifest written through its API; a manifest's
 * event carries the manifest media type and a `/manifests/` URL (a blob's: application/octet-stream
 * and `/blobs/`). A multi-platform image is one push per manifest: the index and each platform's.
 */
import { isRepositoryName, isTag, parseDigest, type Digest } from '../oci/reference';
import type { RegistryEvent } from './envelope';

export interface ManifestPush {
  readonly repository: string;
  readonly digest: Digest;
  /** Present when the manifest was pushed by tag. */
  readonly tag?: string;
  /** When the registry stored it (the event's timestamp), ms since the epoch. */
  readonly at: number;
}

/** Manifest media types (OCI image spec, Docker image manifest v2). */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

const MANIFEST_URL_PATH = /\/v2\/.+\/manifests\/[^/]+$/;

export function manifestPush(event: RegistryEvent): ManifestPush | undefined {
  if (event.action !== 'push') return undefined;
  const { repository, digest: digestText, tag, mediaType, url } = event.target;
  if (!repository || !isRepositoryName(repository) || !digestText) return undefined;
  const digest = parseDigest(digestText);
  if (!digest) return undefined;
  const isManifest =
    (mediaType !== undefined && MANIFEST_MEDIA_TYPES.has(mediaType)) ||
    (url !== undefined && manifestUrl(url));
  if (!isManifest) return undefined;
  return { repository, digest, ...(tag && isTag(tag) ? { tag } : {}), at: event.at };
}

function manifestUrl(url: string): boolean {
  try {
    return MANIFEST_URL_PATH.test(new URL(url).pathname);
  } catch {
    return false;
  }
}
