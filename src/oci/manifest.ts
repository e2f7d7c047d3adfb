/**
 * What a pulled manifest makes its client fetch next: an image manifest names its config and
 * layers (blobs), an index or manifest list names its child manifests (by digest). Pure: the
 * manifest's bytes in, pull targets of the same repository out.
 * Formats: https://github.com/opencontainers/image-spec/blob/main/manifest.md,
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md, and Docker's
 * image manifest v2 schema 2 and manifest list (same field names).
 */
import { createHash } from 'node:crypto';
import type { PullTarget } from './pull';
import { parseDigest, type Digest } from './reference';

/** distribution refuses a manifest PUT over 4 MiB (registry/handlers/manifests.go maxManifestBodySize). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const IMAGE_MANIFESTS = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);
const INDEXES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** Why nothing can be learnt from the bytes. */
export type UnreadableManifest = 'digest_mismatch' | 'not_json' | 'media_type';

export type ManifestContents =
  | { readonly ok: true; readonly next: readonly PullTarget[] }
  | { readonly ok: false; readonly why: UnreadableManifest };

/**
 * The pull targets `bytes` (the manifest stored under `digest` in `repository`) names. The bytes
 * must hash to the digest: a truncated or foreign object teaches nothing. An OCI manifest without
 * a `mediaType` field is recognised by its shape (`config` + `layers`, or `manifests`), as the
 * image spec allows.
 */
export function manifestContents(repository: string, digest: Digest, bytes: Buffer): ManifestContents {
  if (createHash(digest.algorithm).update(bytes).digest('hex') !== digest.hex) {
    return { ok: false, why: 'digest_mismatch' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, why: 'not_json' };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, why: 'not_json' };
  const m = doc as { mediaType?: unknown; config?: unknown; layers?: unknown; manifests?: unknown };
  const type = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  const isIndex = type ? INDEXES.has(type) : Array.isArray(m.manifests) && m.config === undefined;
  const isImage = type ? IMAGE_MANIFESTS.has(type) : Array.isArray(m.layers) && m.config !== undefined;
  if (isImage) {
    const blobs = digestsOf([m.config, ...(Array.isArray(m.layers) ? m.layers : [])]);
    return { ok: true, next: blobs.map((d) => ({ kind: 'blob', repository, digest: d })) };
  }
  if (isIndex) {
    const children = digestsOf(Array.isArray(m.manifests) ? m.manifests : []);
    return { ok: true, next: children.map((d) => ({ kind: 'manifest_by_digest', repository, digest: d })) };
  }
  return { ok: false, why: 'media_type' };
}

/**
 * The valid digests of a list of descriptors, each once; anything else is skipped, and so is a
 * descriptor with `urls` (a non-distributable layer: clients fetch it there, and the registry
 * need not hold it).
 */
function digestsOf(descriptors: readonly unknown[]): Digest[] {
  const seen = new Map<string, Digest>();
  for (const d of descriptors) {
    const desc = d as { digest?: unknown; urls?: unknown } | null;
    if (Array.isArray(desc?.urls) && desc.urls.length > 0) continue;
    const text = desc?.digest;
    const parsed = typeof text === 'string' ? parseDigest(text) : undefined;
    if (parsed) seen.set(`${parsed.algorithm}:${parsed.hex}`, parsed);
  }
  return [...seen.values()];
}
