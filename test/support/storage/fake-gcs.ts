/**
 * fake-gcs-server (https://github.com/fsouza/fake-gcs-server), a Google Cloud Storage emulator
 * speaking the JSON and upload APIs, on a free loopback port over plain HTTP, data in memory:
 * the GCS that distribution v3's gcs driver writes to in the tests. Built and pinned by
 * scripts/install-clients.sh. `-public-host`/`-external-url` name the address it really serves
 * on, so the URLs it hands out (media links, resumable upload sessions) point back to it.
 *
 * Clients reach it the way Google's libraries reach an emulator: `STORAGE_EMULATOR_HOST` (the Go
 * library in distribution) or `apiEndpoint` (`@google-cloud/storage` here, which then sends no
 * credentials).
 *
 * That is not enough for distribution v3's gcs driver: its blob uploads open resumable sessions
 * itself, with an OAuth client of its service account, at a fixed
 * `https://www.googleapis.com/upload/storage/v1/b/<bucket>/o?uploadType=resumable` (writer.newSession
 * in https://github.com/distribution/distribution/blob/v3.1.2/registry/storage/driver/gcs/gcs.go),
 * and every push resumes an upload (PATCH) that way. So a small HTTPS proxy stands in for Google's
 * two hosts: `clientEnv` points a Go program at it (`HTTPS_PROXY`, and `SSL_CERT_FILE` with a
 * certificate made here for www.googleapis.com and oauth2.googleapis.com). It answers the token
 * request (https://oauth2.googleapis.com/token) with a dummy token and forwards the upload API to
 * fake-gcs-server, whose session URLs (`-external-url`) lead back to it directly (Go never proxies
 * loopback addresses). Any other host is refused.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Storage } from '@google-cloud/storage';
import { toolPath } from '../clients/oci-clients';
import { freePort } from '../net/ports';
import { run, spawnManaged, waitForHttp } from '../process';

export interface FakeGcs {
  /** `http://127.0.0.1:PORT` (also what `STORAGE_EMULATOR_HOST` should be). */
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /**
   * The environment a Go GCS client (distribution's gcs driver) needs to use only this server:
   * `STORAGE_EMULATOR_HOST`, `HTTPS_PROXY` and `SSL_CERT_FILE` (see above).
   */
  readonly clientEnv: Readonly<Record<string, string>>;
  /** Creates a bucket; an existing one is not an error. */
  createBucket(name: string): Promise<void>;
  /** A `@google-cloud/storage` client of this server (no credentials). */
  storage(): Storage;
  /** Stops the server and removes its temporary directory; idempotent, safe after a failed start. */
  stop(): Promise<void>;
}

/** The project the buckets are created in (fake-gcs-server accepts any). */
export const FAKE_GCS_PROJECT = 'geosync-test';

const GOOGLE_HOSTS = ['www.googleapis.com', 'oauth2.googleapis.com'] as const;

/** The proxy for Google's hosts (see the header); resolves once it listens on a loopback port. */
async function startGoogleProxy(
  dir: string,
  gcsPort: number,
): Promise<{ port: number; certFile: string; close(): void }> {
  const keyFile = path.join(dir, 'googleapis.key');
  const certFile = path.join(dir, 'googleapis.crt');
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${GOOGLE_HOSTS[0]}`,
      '-addext',
      `subjectAltName=${GOOGLE_HOSTS.map((h) => `DNS:${h}`).join(',')}`,
    ],
    { timeoutMs: 30_000 },
  );
  const secureContext = tls.createSecureContext({
    key: fs.readFileSync(keyFile),
    cert: fs.readFileSync(certFile),
  });
  // What arrives through the tunnel, decrypted: token requests and the upload API.
  const google = http.createServer((req, res) => {
    if ((req.headers.host ?? '').split(':')[0] === 'oauth2.googleapis.com') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'fake-gcs', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: gcsPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${gcsPort}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const host = (req.url ?? '').split(':')[0] as string;
    if (!(GOOGLE_HOSTS as readonly string[]).includes(host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const tunnel = new tls.TLSSocket(socket, { isServer: true, secureContext });
    tunnel.on('error', () => tunnel.destroy());
    google.emit('connection', tunnel);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    certFile,
    close() {
      proxy.close();
      proxy.closeAllConnections();
      google.close();
      google.closeAllConnections();
    },
  };
}

export async function startFakeGcs(opts: { timeoutMs?: number } = {}): Promise<FakeGcs> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-fake-gcs-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnManaged(
    'fake-gcs-server',
    toolPath('fake-gcs-server'),
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'memory',
      '-public-host',
      `127.0.0.1:${port}`,
      '-external-url',
      url,
      '-log-level',
      'warn',
    ],
    { logDir: dir, cwd: dir },
  );
  let googleProxy: Awaited<ReturnType<typeof startGoogleProxy>> | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      googleProxy?.close();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    googleProxy = await startGoogleProxy(dir, port);
    await waitForHttp(`${url}/storage/v1/b?project=${FAKE_GCS_PROJECT}`, {
      timeoutMs: opts.timeoutMs ?? 20_000,
      ready: (s) => s === 200,
      proc,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const storage = (): Storage => new Storage({ apiEndpoint: url, projectId: FAKE_GCS_PROJECT });
  let admin: Storage | undefined;
  return {
    url,
    port,
    logFile: proc.logFile,
    clientEnv: {
      STORAGE_EMULATOR_HOST: url,
      HTTPS_PROXY: `http://127.0.0.1:${googleProxy.port}`,
      SSL_CERT_FILE: googleProxy.certFile,
    },
    async createBucket(name: string): Promise<void> {
      admin ??= storage();
      const bucket = admin.bucket(name);
      const [exists] = await bucket.exists();
      if (!exists) await bucket.create();
    },
    storage,
    stop,
  };
}
