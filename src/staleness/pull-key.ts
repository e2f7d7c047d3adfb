/**
 * What a pull asked for and what a push wrote, as one key space, so a pull that failed can be
 * matched with the arrival that would have served it: `<repository>:<tag>` or
 * `<repository>@<algorithm>:<hex>`.
 */
import type { Digest } from '../oci/reference';
import type { PullTarget } from '../oci/pull';

export function tagKey(repository: string, tag: string): string {
  return `${repository}:${tag}`;
}

export function digestKey(repository: string, digest: Digest): string {
  return `${repository}@${digest.algorithm}:${digest.hex}`;
}

/** The key of a manifest pull; undefined for blobs. */
export function manifestPullKey(target: PullTarget): string | undefined {
  switch (target.kind) {
    case 'manifest_by_tag':
      return tagKey(target.repository, target.tag);
    case 'manifest_by_digest':
      return digestKey(target.repository, target.digest);
    case 'blob':
      return undefined;
  }
}
