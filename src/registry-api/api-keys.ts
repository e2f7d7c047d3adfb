/**
 * What a key of distribution's storage layout (src/storage/keys.ts) asks, as a request of the OCI
 * distribution API: the locator, tag freshness and the tag-list union speak in layout keys, and a
 * region looked up through its registry answers the same questions over the API.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
 */
import { parseDigest, type Digest } from '../oci/reference';
import { WARM_UP_KEY } from '../storage/keys';

export type ApiQuestion =
  /** `HEAD /v2/<name>/blobs/<digest>` (`_layers/…/link`: does the repository serve the blob?) */
  | { readonly kind: 'blob'; readonly repository: string; readonly digest: Digest }
  /** `HEAD /v2/<name>/manifests/<digest>` (`_manifests/revisions/…/link`) */
  | { readonly kind: 'manifest'; readonly repository: string; readonly digest: Digest }
  /** `HEAD /v2/<name>/manifests/<tag>` (`_manifests/tags/<tag>/current/link`: its digest) */
  | { readonly kind: 'tag'; readonly repository: string; readonly tag: string }
  /** `GET /v2/<name>/tags/list` (`_manifests/tags/`) */
  | { readonly kind: 'tags'; readonly repository: string }
  /** `GET /v2/` (the warm-up key: opens the connection, learns the round trip) */
  | { readonly kind: 'base' }
  /** A key the API has no question for: a tag's history, the global blob store. */
  | { readonly kind: 'unanswerable'; readonly why: string };

const REPO = '((?:[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)';
const DIGEST = '([a-z0-9]+(?:[+._-][a-z0-9]+)*)/([a-fA-F0-9]{32,})';
const TAG = '([A-Za-z0-9_][A-Za-z0-9._-]{0,127})';

const LAYER = new RegExp(`^repositories/${REPO}/_layers/${DIGEST}/link$`);
const REVISION = new RegExp(`^repositories/${REPO}/_manifests/revisions/${DIGEST}/link$`);
const TAG_CURRENT = new RegExp(`^repositories/${REPO}/_manifests/tags/${TAG}/current/link$`);
const TAG_INDEX = new RegExp(`^repositories/${REPO}/_manifests/tags/${TAG}/index/`);
const TAGS = new RegExp(`^repositories/${REPO}/_manifests/tags/$`);

export function questionFor(key: string): ApiQuestion {
  if (key === WARM_UP_KEY) return { kind: 'base' };
  let m = LAYER.exec(key);
  if (m) return digestQuestion('blob', m);
  m = REVISION.exec(key);
  if (m) return digestQuestion('manifest', m);
  m = TAG_CURRENT.exec(key);
  if (m) return { kind: 'tag', repository: m[1] as string, tag: m[2] as string };
  if (TAG_INDEX.test(key)) return { kind: 'unanswerable', why: "a registry's API keeps no tag history" };
  m = TAGS.exec(key);
  if (m) return { kind: 'tags', repository: m[1] as string };
  return { kind: 'unanswerable', why: `no API request answers the storage key ${key}` };
}

function digestQuestion(kind: 'blob' | 'manifest', m: RegExpExecArray): ApiQuestion {
  const digest = parseDigest(`${m[2]}:${m[3]}`);
  return digest
    ? { kind, repository: m[1] as string, digest }
    : { kind: 'unanswerable', why: `not a digest: ${m[2]}:${m[3]}` };
}
