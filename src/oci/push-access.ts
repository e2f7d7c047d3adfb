/**
 * Which repositories a client holds push access to, read from the bearer token it sends: a token
 * from a registry token server (distribution, Harbor, GitLab, Docker Hub, ACR, Quay) is a JWT
 * whose `access` claim lists, per repository, the actions granted
 * (https://distribution.github.io/distribution/spec/auth/jwt/). A client asks the token server
 * for the scope it means to use: `pull` to pull, `pull,push` to push (every pusher does, because
 * its uploads need it), and the registry grants no more than was asked
 * (https://distribution.github.io/distribution/spec/auth/scope/).
 *
 * geosync uses this as the client's intent, never as an authorization: a pusher's "does this
 * region hold it already?" checks (HEAD of the tag, HEAD of a manifest by digest, the referrers
 * tag index oras reads before writing it) must see only this region, or the client skips a write
 * that this region needs (docs/pushes.md). The token is not verified: a forged
 * one only changes what its own sender sees, and the registry had already accepted the token of
 * any request that reaches geosync (its 404 comes after its authorization).
 *
 * Anything that is not a well-formed JWT with an `access` array (an opaque OAuth2 token, Basic
 * credentials, a token with no access claim) grants nothing here: the request is a pull.
 */

/** Longer header values are not tokens a registry issued (and not worth decoding). */
export const MAX_TOKEN_LENGTH = 16_384;

const BEARER = /^bearer +/i;
/** Shared by every request without a token (most pulls): nothing allocated for them. */
const NONE: ReadonlySet<string> = new Set();

/** The repositories the token grants `push` (or `*`) on; empty when it names none. */
export function pushRepositories(authorization: string | undefined): ReadonlySet<string> {
  if (!authorization || authorization.length > MAX_TOKEN_LENGTH) return NONE;
  const prefix = BEARER.exec(authorization);
  if (!prefix) return NONE;
  const parts = authorization.slice(prefix[0].length).trim().split('.');
  if (parts.length !== 3) return NONE;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return NONE;
  }
  const access = (claims as { access?: unknown } | null)?.access;
  if (!Array.isArray(access)) return NONE;
  const out = new Set<string>();
  for (const entry of access) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { type, name, actions } = entry as { type?: unknown; name?: unknown; actions?: unknown };
    if (type !== 'repository' || typeof name !== 'string' || !Array.isArray(actions)) continue;
    if (actions.some((a) => a === 'push' || a === '*')) out.add(name);
  }
  return out.size > 0 ? out : NONE;
}
