/**
 * One lookup per rescued pull. A registry accepts a manifest only once it holds every blob the
 * manifest names (an index: every child manifest), linked in the same repository
 * (distribution registry/storage/schema2manifesthandler.go and ocimanifesthandler.go `verifyManifest`,
 * manifestlisthandler.go). So once a manifest is found in a sibling, what its client asks for
 * next is in that sibling too: reading the manifest there once (its tag link, which a lookup over
 * the network has read already, then its bytes) answers the config, layer and child-manifest
 * lookups that follow without a storage request each.
 *
 * Bounded: one tag-link read and one read of at most MAX_MANIFEST_BYTES, within a deadline, only
 * for manifests geosync has just found; bytes that do not hash to the digest teach nothing. If the
 * sibling later loses a blob, the redirected request gets the sibling's 404: what the client would
 * have got without geosync. A replicator that copies a manifest into a region before its blobs
 * breaks the registry's invariant there; such a region answers those blobs 404 until they land.
 */
import { manifestContents, MAX_MANIFEST_BYTES, type UnreadableManifest } from '../oci/manifest';
import type { PullTarget } from '../oci/pull';
import { parseDigest, type Digest } from '../oci/reference';
import { blobDataKey, tagCurrentLinkKey } from '../storage/keys';
import type { ObjectProbe, ProbeErrorKind } from '../storage/probe';

/** How a read of a found manifest ended (a metric label). */
export type ContentsOutcome = 'learnt' | 'not_found' | 'no_digest' | UnreadableManifest | ProbeErrorKind;

export type ContentsResult =
  | { readonly outcome: 'learnt'; readonly next: readonly PullTarget[] }
  | { readonly outcome: Exclude<ContentsOutcome, 'learnt'> };

type ManifestTarget = Exclude<PullTarget, { kind: 'blob' }>;

/**
 * What the manifest `target`, found through `probe`'s storage, names. `tagLink`: the tag's link as
 * the lookup that found it read it, which saves reading it again. Resolves, never rejects.
 */
export async function readManifestContents(
  probe: ObjectProbe,
  target: ManifestTarget,
  signal: AbortSignal,
  tagLink?: string,
  authorization?: string,
): Promise<ContentsResult> {
  const opts = authorization !== undefined ? { signal, authorization } : { signal };
  let digest: Digest | undefined;
  if (target.kind === 'manifest_by_digest') digest = target.digest;
  else {
    let text = tagLink;
    if (text === undefined) {
      const link = await probe.read(tagCurrentLinkKey(target.repository, target.tag), opts);
      if (link.status !== 'found') return { outcome: link.status === 'error' ? link.kind : 'not_found' };
      text = link.text;
    }
    digest = parseDigest(text.trim());
    if (!digest) return { outcome: 'no_digest' };
  }
  const data = probe.readManifest
    ? await probe.readManifest(target.repository, digest, { ...opts, maxBytes: MAX_MANIFEST_BYTES })
    : await probe.read(blobDataKey(digest), { ...opts, maxBytes: MAX_MANIFEST_BYTES });
  if (data.status !== 'found') return { outcome: data.status === 'error' ? data.kind : 'not_found' };
  const contents = manifestContents(target.repository, digest, Buffer.from(data.text, 'utf8'));
  return contents.ok ? { outcome: 'learnt', next: contents.next } : { outcome: contents.why };
}
