/**
 * Registry-shaped HTTP servers on loopback for tests of Envoy's behaviour around geosync: each
 * records every request (headers, body, TLS server name) and answers with a scripted handler. Real
 * registries are used wherever the registry itself is under test (test/support/registries/registry.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** SNI the client sent (https only). */
  readonly servername?: string;
  /** '1.1' or '2.0'. */
  readonly httpVersion: string;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => void;

export interface FakeServer {
  readonly port: number;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * `host` defaults to 127.0.0.1; `tls` serves https with that certificate. `http2`: with `tls`,
 * ALPN offers h2 and http/1.1; without, the server speaks only prior-knowledge h2c.
 */
export async function startFakeServer(
  handler: Handler,
  opts: { host?: string; tls?: TlsFiles; http2?: boolean } = {},
): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const onRequest = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const servername = (req.socket as Partial<TLSSocket>).servername;
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        httpVersion: req.httpVersion,
        ...(typeof servername === 'string' ? { servername } : {}),
      };
      requests.push(rec);
      // The compatibility API of node:http2 answers like node:http's for what handlers use.
      handler(rec, res as http.ServerResponse);
    });
  };
  const cert = opts.tls && {
    cert: fs.readFileSync(opts.tls.certFile),
    key: fs.readFileSync(opts.tls.keyFile),
  };
  const server = opts.http2
    ? cert
      ? http2.createSecureServer({ ...cert, allowHTTP1: true }, onRequest)
      : http2.createServer(onRequest)
    : cert
      ? https.createServer(cert, onRequest)
      : http.createServer(onRequest);
  // node:http2's servers have no closeAllConnections: close() would wait for every idle client.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // A deep accept queue, like a real registry's (Go listens with the system's somaxconn): Node's
  // default of 511 drops the SYNs of a herd, and Envoy then counts connect failures.
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: opts.host ?? '127.0.0.1', backlog: 4096 }, resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const notFound: Handler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
};

/** 200 with `body` (HEAD: headers only); Range requests get the 206 a registry gives. */
export const content =
  (body: string, digest = 'sha256:fake'): Handler =>
  (req, res) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    const headers = { 'content-type': 'application/octet-stream', 'docker-content-digest': digest };
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : body.length - 1;
      const part = body.slice(start, end + 1);
      res.writeHead(206, {
        ...headers,
        'content-length': String(part.length),
        'content-range': `bytes ${start}-${end}/${body.length}`,
      });
      res.end(req.method === 'HEAD' ? undefined : part);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

/**
 * A CA and a server certificate for `name` (a DNS or, for an IPv4 address, an IP subject
 * alternative name), made with openssl into `dir`: enough for an Envoy cluster to verify a sibling
 * by SNI and subject alternative name, or for a client to trust a registry at 127.0.0.1 only with
 * this CA's bundle. Clients check the subjectAltName, never the CN (RFC 6125 section 6.4.4).
 */
export function makeTls(dir: string, name: string): TlsFiles {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=geosync test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    f('tls.key'),
    '-out',
    f('tls.csr'),
  );
  const san = /^\d+\.\d+\.\d+\.\d+$/.test(name) ? `IP:${name}` : `DNS:${name}`;
  fs.writeFileSync(f('ext.cnf'), `subjectAltName=${san}\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    f('tls.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('tls.crt'),
  );
  return { caFile: f('ca.crt'), certFile: f('tls.crt'), keyFile: f('tls.key') };
}
