/**
 * A real CNCF distribution registry (Debian `docker-registry`, 2.8.x) on a free loopback port,
 * on the filesystem driver or the s3 driver against Swift. Blob redirects to object storage are
 * disabled so every blob GET is answered by the registry itself.
 *
 * `AWS_CA_BUNDLE` is removed from its environment: distribution 2.8.2 panics at start with the s3
 * driver when it is set ("unable to load custom CA bundle").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { run, spawnManaged, waitForHttp } from './process';
import type { S3Endpoint } from './swift';
import { tokenAuthYaml, type TokenServer } from './token-server';

export type RegistryStorage =
  | { readonly type: 'filesystem'; readonly root: string }
  | {
      readonly type: 's3';
      readonly s3: S3Endpoint;
      readonly bucket: string;
      /** distribution's `rootdirectory`; default `/` (bucket root). */
      readonly rootDirectory?: string;
    };

/**
 * One of the registry's `notifications.endpoints`
 * (https://distribution.github.io/distribution/about/notifications/#configuration).
 */
export interface NotificationEndpoint {
  readonly name: string;
  readonly url: string;
  /** Sent with every delivery (e.g. the shared secret geosync checks). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RegistryOptions {
  readonly storage: RegistryStorage;
  /** htpasswd basic auth (bcrypt, via apache2-utils' `htpasswd`). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Token authentication with this server's tokens, clients sent to `realm` (token-server.ts). */
  readonly tokenAuth?: { readonly server: TokenServer; readonly realm: string };
  /**
   * Run as a pull-through cache of the registry at this URL (distribution's `proxy.remoteurl`):
   * pulls of content it lacks are fetched from there and stored, pushes are refused.
   */
  readonly proxyRemoteUrl?: string;
  /** Shared `http.secret` (needed when several instances serve one storage). */
  readonly secret?: string;
  readonly timeoutMs?: number;
  /** Where the registry sends its events; none: no `notifications` section. */
  readonly notifications?: readonly NotificationEndpoint[];
}

export interface Registry {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, as skopeo's `docker://` references want it. */
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  /** Stops the registry and removes its temporary directory; idempotent. */
  stop(): Promise<void>;
}

function storageYaml(storage: RegistryStorage): string {
  if (storage.type === 'filesystem') {
    return `  filesystem: {rootdirectory: ${JSON.stringify(storage.root)}}\n`;
  }
  const s3 = {
    accesskey: storage.s3.accessKeyId,
    secretkey: storage.s3.secretAccessKey,
    region: storage.s3.region,
    regionendpoint: storage.s3.endpoint,
    bucket: storage.bucket,
    secure: storage.s3.endpoint.startsWith('https:'),
    v4auth: true,
    rootdirectory: storage.rootDirectory ?? '/',
  };
  return `  s3: ${JSON.stringify(s3)}\n`;
}

/**
 * A failed delivery is retried after `backoff` once `threshold` deliveries in a row failed; the
 * tests' endpoints are on loopback, so a short backoff keeps a test that restarts one quick.
 */
function notificationsYaml(endpoints: readonly NotificationEndpoint[] | undefined): string {
  if (!endpoints || endpoints.length === 0) return '';
  const list = endpoints.map((e) => ({
    name: e.name,
    url: e.url,
    ...(e.headers
      ? { headers: Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k, [v]])) }
      : {}),
    timeout: '5s',
    threshold: 3,
    backoff: '250ms',
  }));
  return `notifications:\n  endpoints: ${JSON.stringify(list)}\n`;
}

export async function startRegistry(opts: RegistryOptions): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  if (opts.auth) {
    const { stdout } = await run('htpasswd', ['-Bbn', opts.auth.username, opts.auth.password], {
      timeoutMs: 10_000,
    });
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, stdout.trim() + '\n');
    auth = `auth:\n  htpasswd: {realm: geosync, path: ${JSON.stringify(file)}}\n`;
  } else if (opts.tokenAuth) {
    auth = tokenAuthYaml(opts.tokenAuth.server, opts.tokenAuth.realm);
  }
  const config = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    'storage:',
    storageYaml(opts.storage).trimEnd(),
    '  delete: {enabled: true}',
    '  redirect: {disable: true}',
    '  cache: {blobdescriptor: inmemory}',
    `http: {addr: "${host}", secret: ${JSON.stringify(opts.secret ?? 'geosync-test')}}`,
    auth,
    notificationsYaml(opts.notifications),
    opts.proxyRemoteUrl ? `proxy: {remoteurl: ${JSON.stringify(opts.proxyRemoteUrl)}}\n` : '',
  ].join('\n');
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, config);

  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  const proc = spawnManaged('registry', 'docker-registry', ['serve', configFile], { logDir: dir, env });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= proc.stop().then(() => fs.rmSync(dir, { recursive: true, force: true }));
    return stopped;
  };
  try {
    // Any HTTP answer (401 with auth) means it serves; 5xx means its storage is not usable.
    await waitForHttp(`http://${host}/v2/`, {
      timeoutMs: opts.timeoutMs ?? 20_000,
      ready: (s) => s < 500,
      proc,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://${host}`, host, port, logFile: proc.logFile, stop };
}
