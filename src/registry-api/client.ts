/**
 * Requests to one region's registry over the OCI distribution API, with its credentials: undici's
 * Agent (the HTTP client of Node's own fetch) keeps connections alive and pools them, so a lookup
 * inside a 150 ms deadline does not pay for a TCP or TLS handshake; redirects are never followed
 * (a blob's 307 to object storage already means "found").
 *
 * Credentials (`regions[].registry.credentials`):
 * - `none`: anonymous; a registry that answers 401 with a Bearer challenge gets an anonymous token;
 * - `basic`: the service credential, sent as Basic, or traded at the challenge's realm for a
 *   bearer token for `repository:<name>:pull`;
 * - `client`: the pulling client's own `Authorization`, forwarded unchanged; never traded.
 * Tokens are cached per scope until shortly before they expire, and concurrent requests for one
 * share one token request. https://distribution.github.io/distribution/spec/auth/token/
 *
 * Nothing here logs or returns a credential: errors name the status or the network error only.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { Clock } from '../clock/clock';
import type { RegistryLookup } from '../config/types';
import { Coalescer } from '../util/coalesce';
import { VERSION } from '../version';
import { parseChallenge, parseTokenAnswer, pullScope, type IssuedToken } from './challenge';

/** Connections per registry: above the per-region probe cap there is nothing to gain. */
const MAX_CONNECTIONS = 256;
/** An idle connection is kept this long for the next lookup (a registry closes it sooner if it wants). */
const KEEP_ALIVE_MS = 60_000;
/** Who asks, in the registry's access log (RFC 9110 §10.1.5). */
export const USER_AGENT = `geosync/${VERSION}`;
/** A token server's answer is a small JSON document. */
const MAX_TOKEN_ANSWER_BYTES = 64 * 1024;

export interface RegistryRequest {
  readonly method: 'HEAD' | 'GET';
  /** Below `/v2/`, e.g. `library/alpine/manifests/latest`, with any query. */
  readonly path: string;
  readonly repository?: string;
  readonly accept?: string;
  /** The pulling client's `Authorization`, used when the credentials are `client`. */
  readonly authorization?: string;
  /** At most this much of a GET's body is read. */
  readonly maxBytes?: number;
  readonly signal: AbortSignal;
}

export interface RegistryResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** A GET's body (at most `maxBytes`); '' for a HEAD. */
  readonly body: Buffer;
}

export interface RegistryClientOptions {
  readonly clock: Clock;
  /**
   * Sent with every API request: the region's `x-geosync-forwarded-by`, so that a sibling whose
   * `url` is its Envoy answers what it holds and its own geosync never rescues the lookup.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Injected in tests; otherwise an Agent per registry. */
  readonly dispatcher?: Dispatcher;
}

export class RegistryClient {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly tokenRequests = new Coalescer<IssuedToken | undefined>();

  constructor(
    /** `scheme://host[:port]` */
    private readonly baseUrl: string,
    private readonly lookup: RegistryLookup,
    private readonly opts: RegistryClientOptions,
  ) {
    this.ownsDispatcher = opts.dispatcher === undefined;
    this.dispatcher =
      opts.dispatcher ??
      new Agent({
        connections: MAX_CONNECTIONS,
        keepAliveTimeout: KEEP_ALIVE_MS,
        ...(lookup.caFile
          ? // The bundle adds to the public roots, as NODE_EXTRA_CA_CERTS does.
            { connect: { ca: [...rootCertificates, readFileSync(lookup.caFile, 'utf8')] } }
          : {}),
      });
  }

  /**
   * One API request, authorized as the credentials say; rejects only on a network error or an
   * abort (the caller bounds it and turns those into probe outcomes).
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    const scope = req.repository !== undefined ? pullScope(req.repository) : undefined;
    const first = await this.once(req, this.authorizationFor(req, scope));
    if (first.status !== 401 || this.lookup.credentials === 'client') return first;
    const challenge = parseChallenge(first.headers['www-authenticate']);
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return first;
    const wanted = challenge.params.scope ?? scope;
    // A token the registry no longer takes (revoked, or its clock runs ahead of ours).
    if (wanted !== undefined) this.tokens.delete(wanted);
    const token = await this.token(challenge.params.realm, challenge.params.service, wanted, req.signal);
    if (!token) return first;
    return this.once(req, `Bearer ${token.token}`);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private authorizationFor(req: RegistryRequest, scope: string | undefined): string | undefined {
    switch (this.lookup.credentials) {
      case 'client':
        return req.authorization;
      case 'none':
      case 'basic': {
        const cached = scope !== undefined ? this.cachedToken(scope) : undefined;
        if (cached) return `Bearer ${cached.token}`;
        return this.lookup.credentials === 'basic' ? this.basic() : undefined;
      }
    }
  }

  private basic(): string | undefined {
    const { username, password } = this.lookup;
    if (username === undefined || password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  private cachedToken(scope: string): IssuedToken | undefined {
    const t = this.tokens.get(scope);
    if (t && t.expiresAt > this.opts.clock.now()) return t;
    if (t) this.tokens.delete(scope);
    return undefined;
  }

  /** A token for `scope` from the realm; one request for every caller that needs it at once. */
  private async token(
    realm: string,
    service: string | undefined,
    scope: string | undefined,
    signal: AbortSignal,
  ): Promise<IssuedToken | undefined> {
    const key = scope ?? '';
    const cached = this.cachedToken(key);
    if (cached) return cached;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (service !== undefined) url.searchParams.set('service', service);
    if (scope !== undefined) url.searchParams.set('scope', scope);
    const { promise } = this.tokenRequests.run(key, async () => {
      const basic = this.lookup.credentials === 'basic' ? this.basic() : undefined;
      const res = await this.raw(
        url,
        'GET',
        basic ? { authorization: basic } : {},
        signal,
        MAX_TOKEN_ANSWER_BYTES,
      );
      if (res.status !== 200) return undefined;
      const token = parseTokenAnswer(res.body.toString('utf8'), this.opts.clock.now());
      if (token) this.tokens.set(key, token);
      return token;
    });
    return promise;
  }

  private once(req: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...this.opts.headers };
    if (req.accept) headers.accept = req.accept;
    if (authorization) headers.authorization = authorization;
    return this.raw(
      new URL(`/v2/${req.path}`, this.baseUrl),
      req.method,
      headers,
      req.signal,
      req.maxBytes ?? 0,
    );
  }

  private async raw(
    url: URL,
    method: 'HEAD' | 'GET',
    headers: Record<string, string>,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<RegistryResponse> {
    const res = await request(url, { method, headers, signal, dispatcher: this.dispatcher });
    const out: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const body =
      method === 'GET' && res.statusCode < 300 ? await readAtMost(res.body, maxBytes) : Buffer.alloc(0);
    // What is left unread is thrown away, so the connection goes back to the pool.
    await res.body.dump().catch(() => undefined);
    return { status: res.statusCode, headers: out, body };
  }
}

async function readAtMost(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}
