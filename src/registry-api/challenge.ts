/**
 * The parts of a registry's token flow that are pure: reading the `WWW-Authenticate` challenge of
 * a 401 and the token server's answer.
 * - Challenge syntax: RFC 9110 §11.6.1 (`auth-scheme 1*SP auth-param *( "," auth-param )`, a
 *   param's value a token or a quoted-string).
 * - Token flow: https://distribution.github.io/distribution/spec/auth/token/ (`realm`, `service`,
 *   `scope`; the answer's `token` or `access_token`, `expires_in` defaulting to 60 s).
 */

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, … */
  readonly scheme: string;
  /** Parameter names lower-cased (RFC 9110: case-insensitive), values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

/** Longer headers are not a registry's challenge: not worth parsing. */
const MAX_CHALLENGE_LENGTH = 4096;

/**
 * The first challenge of a `WWW-Authenticate` value, or undefined when it does not parse. A
 * registry sends one (distribution: `Bearer realm=…,service=…,scope=…` or `Basic realm=…`).
 */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header || header.length > MAX_CHALLENGE_LENGTH) return undefined;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+(.*))?$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] as string).toLowerCase();
  const params: Record<string, string> = {};
  let rest = m[2] ?? '';
  const param = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/s;
  while (rest.trim() !== '') {
    const p = param.exec(rest);
    // Another challenge follows (`, Basic realm=…`) or the rest is no auth-param: stop here.
    if (!p) break;
    const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    params[(p[1] as string).toLowerCase()] = value;
    rest = rest.slice(p[0].length);
  }
  return { scheme, params };
}

/** A token the token server gave, with when it stops being used. */
export interface IssuedToken {
  readonly token: string;
  /** Epoch ms after which the token is not sent again. */
  readonly expiresAt: number;
}

/** Docker's token spec: "If omitted, the token should be assumed to be valid for 60 seconds." */
const DEFAULT_EXPIRES_IN_S = 60;
/** Tokens are used only this long before they expire: a request in flight must not carry a dead one. */
const EXPIRY_MARGIN_MS = 5_000;
/** Never cached longer, whatever a token server says (a revoked robot account stops within it). */
const MAX_TOKEN_TTL_MS = 10 * 60_000;

/** The token of a token server's JSON answer, or undefined when it carries none. */
export function parseTokenAnswer(body: string, now: number): IssuedToken | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const answer = json as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token =
    typeof answer.token === 'string' && answer.token !== ''
      ? answer.token
      : typeof answer.access_token === 'string' && answer.access_token !== ''
        ? answer.access_token
        : undefined;
  if (token === undefined) return undefined;
  const expiresIn =
    typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_EXPIRES_IN_S;
  const ttl = Math.min(MAX_TOKEN_TTL_MS, Math.max(0, expiresIn * 1000 - EXPIRY_MARGIN_MS));
  return { token, expiresAt: now + ttl };
}

/** The scope a pull of `repository` needs (distribution's token spec, "Requesting a Token"). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
