/**
 * A token server for distribution's token authentication
 * (https://distribution.github.io/distribution/spec/auth/token/ and .../auth/jwt/), as Harbor,
 * GitLab or Docker Hub run one: a client that gets 401 with `Bearer realm=...,scope=...` asks it
 * for a token and sends that token to the registry. Tests only: it grants every scope asked
 * (anonymously or with any Basic credentials), which is what makes the scope a client asks for
 * visible in its token. Signed ES256 with a self-signed certificate (made with `openssl`) that the
 * registries trust through `auth.token.rootcertbundle`; the JWT's `x5c` header carries it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { run } from '../process';

export interface TokenServer {
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate the registries verify tokens with. */
  readonly rootCertBundle: string;
  /** Every scope asked for so far (`repository:team/app:pull,push`), in order. */
  readonly scopesAsked: readonly string[];
  /** Who asked for each token, in order: the Basic user name, or `anonymous`. */
  readonly askedBy: readonly string[];
  /**
   * A front for one registry, as Harbor's nginx is: `GET /token` is answered here, everything
   * else is passed to the registry unchanged. The realm must be where the client already talks
   * (its registry host:port): crane and oras refuse a token realm on another loopback or private
   * address (an SSRF guard, go-containerregistry's transport/bearer.go validateRealmURL and
   * oras-go's auth/client.go validateRealm), so the realm is the region's Envoy, which routes
   * `/token` like any path to the registry, that is, to this front.
   */
  front(registry: { readonly host: string; readonly port: number }): Promise<TokenFront>;
  stop(): Promise<void>;
}

export interface TokenFront {
  readonly port: number;
  close(): Promise<void>;
}

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:team/app:pull,push` → one access entry (the name may itself hold no `:`). */
function parseScope(scope: string): Access | undefined {
  const m = /^([a-z]+):([^:]+):([a-z*,]*)$/.exec(scope);
  if (!m) return undefined;
  return { type: m[1] as string, name: m[2] as string, actions: (m[3] as string).split(',').filter(Boolean) };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function basicOf(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export interface TokenPolicy {
  /**
   * The actions a token grants `who` (Basic credentials, or undefined: anonymous) of what it asked
   * for; without a policy every action asked is granted to anyone.
   */
  allow(who: { user: string; password: string } | undefined, asked: Access): string[];
}

export async function startTokenServer(policy?: TokenPolicy): Promise<TokenServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-token-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=geosync-test-token-issuer',
    ],
    { timeoutMs: 20_000 },
  );
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const certDer = new crypto.X509Certificate(fs.readFileSync(certFile)).raw;
  const service = 'geosync-test-registry';
  const issuer = 'geosync-test-issuer';
  const scopesAsked: string[] = [];
  const askedBy: string[] = [];
  const fronts = new Set<TokenFront>();

  const sign = (access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: 'test',
      aud: service,
      exp: now + 600,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JOSE wants ECDSA signatures as r||s, not DER.
    const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };

  const answerToken = (url: URL, req: http.IncomingMessage, res: http.ServerResponse) => {
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' '));
    scopesAsked.push(...scopes);
    const who = basicOf(req.headers.authorization);
    askedBy.push(who?.user ?? 'anonymous');
    const access = scopes
      .map(parseScope)
      .filter((a): a is Access => a !== undefined)
      .map((a) => (policy ? { ...a, actions: policy.allow(who, a) } : a));
    const token = sign(access);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 600 }));
  };

  const front = async (registry: { host: string; port: number }): Promise<TokenFront> => {
    const agent = new http.Agent({ keepAlive: true });
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        req.resume();
        answerToken(url, req, res);
        return;
      }
      const upstream = http.request(
        {
          host: registry.host,
          port: registry.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.rawHeaders);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const handle: TokenFront = {
      port: (server.address() as AddressInfo).port,
      async close() {
        fronts.delete(handle);
        server.closeAllConnections();
        agent.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    fronts.add(handle);
    return handle;
  };

  return {
    service,
    issuer,
    rootCertBundle: certFile,
    scopesAsked,
    askedBy,
    front,
    async stop() {
      await Promise.all([...fronts].map((f) => f.close()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The registry configuration that trusts this server's tokens, with clients sent to `realm`. */
export function tokenAuthYaml(
  t: Pick<TokenServer, 'service' | 'issuer' | 'rootCertBundle'>,
  realm: string,
): string {
  const token = { realm, service: t.service, issuer: t.issuer, rootcertbundle: t.rootCertBundle };
  return `auth:\n  token: ${JSON.stringify(token)}\n`;
}
