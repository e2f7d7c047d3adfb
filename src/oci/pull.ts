/**
 * Which requests geosync may answer from a sibling region: the reads a pull makes.
 *
 * - GET and HEAD of /v2/<name>/manifests/<tag|digest>
 * - GET of /v2/<name>/blobs/<digest>
 *
 * Never for a client that holds push access to the repository (its bearer token says so,
 * push-access.ts): it is writing to this region, and must see what this region holds. Nor a
 * manifest HEAD by a client known to push (a copy tool's User-Agent, a Basic user named in
 * `pushCheckBasicUsers`): a pusher HEADs the manifest first, and skips the push if it is there.
 *
 * Never a blob HEAD: `docker push` HEADs each blob and skips the upload on 200, so answering it
 * from a sibling makes the later manifest PUT fail with MANIFEST_BLOB_UNKNOWN (Azure/acr#588). Never
 * uploads, mounts, deletes, tag lists or the catalog. Anything that does not parse exactly under the
 * OCI grammar (percent-encoding, dot segments, over-long names, unknown digest algorithms) is
 * ineligible and causes no storage call.
 */
import { isRepositoryName, isTag, parseDigest, type Digest } from './reference';

export type PullKind = 'manifest_by_tag' | 'manifest_by_digest' | 'blob';

export type PullTarget =
  | { readonly kind: 'manifest_by_tag'; readonly repository: string; readonly tag: string }
  | { readonly kind: 'manifest_by_digest'; readonly repository: string; readonly digest: Digest }
  | { readonly kind: 'blob'; readonly repository: string; readonly digest: Digest };

export type IneligibleReason =
  | 'method'
  | 'blob_head'
  | 'manifest_head_by_digest'
  | 'path'
  | 'grammar'
  | 'too_long'
  | 'internal_redirect'
  | 'missing_request'
  | 'body'
  | 'pusher';

export type Classification =
  | { readonly eligible: true; readonly target: PullTarget }
  | { readonly eligible: false; readonly reason: IneligibleReason };

/** Longer request targets are not pulls geosync answers (and are not worth parsing). */
export const MAX_PATH_LENGTH = 2048;

const PULL_PATH = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;

export interface PullRequestInfo {
  readonly method: string;
  /** The request target as sent (`:path`): path and optional query. */
  readonly path: string;
  /** Another region's Envoy already redirected this request here (`x-geosync-forwarded-by` present). */
  readonly redirected: boolean;
  /**
   * Bytes of request body Envoy received (CEL `request.size`), when known. Envoy follows an
   * internal redirect only for a request it could buffer whole; a pull has no body, and a request
   * with one would get geosync's 307 itself (naming the sibling) when Envoy cannot replay it.
   */
  readonly bodyBytes?: number;
  /** The repositories the client's bearer token grants push on (push-access.ts). */
  readonly pushRepositories?: ReadonlySet<string>;
  readonly userAgent?: string;
  /** The user-id of the client's Basic credentials, as Envoy passes it (basic-user.ts). */
  readonly basicUser?: string;
}

export interface PullPolicy {
  /**
   * HEAD of a manifest by digest is what containerd sends to resolve a pull by digest, and also
   * what its pusher sends before each manifest PUT (it skips the PUT on 200, as with blob
   * HEADs). Proxying it (the default) serves pinned-digest pulls; turning it off makes pushes of a
   * manifest that only a sibling has safe, at the cost of those pulls.
   */
  readonly proxyManifestHeadByDigest: boolean;
  /**
   * User-Agent prefixes of copy tools whose manifest HEAD is a push's existence check although
   * their token only grants pull: regclient (regctl, regsync) HEADs the destination before it
   * asks for push (regclient image.go, imageCopyOpt) and skips the copy when the digests match.
   */
  readonly pushCheckUserAgents: readonly string[];
  /**
   * Basic user-ids (a CI robot's) whose manifest HEAD is a push's existence check: with htpasswd
   * no token says what a client means to do, and crane, regctl, oras and containerd's pusher HEAD
   * the destination's manifest before they write it, and skip the write on 200.
   */
  readonly pushCheckBasicUsers: readonly string[];
}

export const DEFAULT_PULL_POLICY: PullPolicy = {
  proxyManifestHeadByDigest: true,
  pushCheckUserAgents: ['regclient/'],
  pushCheckBasicUsers: [],
};

export function classifyPull(req: PullRequestInfo, policy: PullPolicy = DEFAULT_PULL_POLICY): Classification {
  if (req.redirected) return no('internal_redirect');
  if (req.method !== 'GET' && req.method !== 'HEAD') return no('method');
  if ((req.bodyBytes ?? 0) > 0) return no('body');
  if (req.path.length > MAX_PATH_LENGTH) return no('too_long');
  const query = req.path.indexOf('?');
  const path = query >= 0 ? req.path.slice(0, query) : req.path;
  if (path.includes('#')) return no('path');
  const m = PULL_PATH.exec(path);
  if (!m) return no('path');
  const [, repository, resource, reference] = m as unknown as [string, string, string, string];
  if (!isRepositoryName(repository)) return no(repository.length > 255 ? 'too_long' : 'grammar');
  if (req.pushRepositories?.has(repository)) return no('pusher');
  if (resource === 'manifests' && req.method === 'HEAD' && isPushCheck(req, policy)) return no('pusher');

  if (resource === 'blobs') {
    if (req.method !== 'GET') return no('blob_head');
    const digest = parseDigest(reference);
    return digest ? yes({ kind: 'blob', repository, digest }) : no('grammar');
  }
  const digest = parseDigest(reference);
  if (digest) {
    if (req.method === 'HEAD' && !policy.proxyManifestHeadByDigest) return no('manifest_head_by_digest');
    return yes({ kind: 'manifest_by_digest', repository, digest });
  }
  if (reference.includes(':')) return no('grammar');
  return isTag(reference) ? yes({ kind: 'manifest_by_tag', repository, tag: reference }) : no('grammar');
}

function isPushCheck({ userAgent, basicUser }: PullRequestInfo, policy: PullPolicy): boolean {
  if (basicUser !== undefined && policy.pushCheckBasicUsers.includes(basicUser)) return true;
  return userAgent !== undefined && policy.pushCheckUserAgents.some((p) => userAgent.startsWith(p));
}

function yes(target: PullTarget): Classification {
  return { eligible: true, target };
}

function no(reason: IneligibleReason): Classification {
  return { eligible: false, reason };
}
