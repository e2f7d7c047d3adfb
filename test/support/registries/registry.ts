/**
 * A real CNCF distribution registry on a free loopback port: 3.x (`registry` from
 * github.com/distribution/distribution/v3, built into .tools/ by scripts/install-clients.sh) by
 * default, or 2.8.x (Debian `docker-registry`) with `version: 2`. Storage: the filesystem driver, the s3 driver
 * against Swift, and (3.x only) the azure driver against Azurite and the gcs driver against
 * fake-gcs-server. Blob redirects to object storage are disabled so every blob GET is answered by
 * the registry itself.
 *
 * `AWS_CA_BUNDLE` is removed from its environment: distribution 2.8.2 panics at start with the s3
 * driver when it is set ("unable to load custom CA bundle").
 *
 * Driver parameters: https://distribution.github.io/distribution/storage-drivers/azure/ and
 * https://distribution.github.io/distribution/storage-drivers/gcs/, as read in the v3.1.2 sources
 * (https://github.com/distribution/distribution/blob/v3.1.2/registry/storage/driver/azure/parser.go,
 * .../azure/auth.go and .../gcs/gcs.go).
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Azurite } from '../storage/azurite';
import type { FakeGcs } from '../storage/fake-gcs';
import { toolPath } from '../clients/oci-clients';
import { freePort } from '../net/ports';
import { run, spawnManaged, waitForHttp } from '../process';
import type { S3Endpoint } from '../storage/swift';
import { tokenAuthYaml, type TokenServer } from './token-server';

export type RegistryStorage =
  | { readonly type: 'filesystem'; readonly root: string }
  | {
      readonly type: 's3';
      readonly s3: S3Endpoint;
      readonly bucket: string;
      /** distribution's `rootdirectory`; default `/` (bucket root). */
      readonly rootDirectory?: string;
    }
  | {
      /** distribution 3.x only. */
      readonly type: 'azure';
      readonly azurite: Azurite;
      /** A blob container that exists (Azurite.createContainer). */
      readonly container: string;
      /** distribution's `rootdirectory`; default none (container root). */
      readonly rootDirectory?: string;
    }
  | {
      /** distribution 3.x only. */
      readonly type: 'gcs';
      readonly gcs: FakeGcs;
      /** A bucket that exists (FakeGcs.createBucket). */
      readonly bucket: string;
      /** distribution's `rootdirectory`; default none (bucket root). */
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

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryOptions {
  readonly storage: RegistryStorage;
  /**
   * 2: distribution 2.8 (Debian `docker-registry`); 3: distribution v3 (scripts/client-versions'
   * `registry`). Default 3; azure and gcs need it.
   */
  readonly version?: 2 | 3;
  /** htpasswd basic auth (bcrypt, via apache2-utils' `htpasswd`), for one user or several. */
  readonly auth?: Credentials | readonly Credentials[];
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
  /**
   * Accept an index whose child manifests this registry lacks (distribution 3's
   * `validation.manifests.indexes.platforms: none`), as a sparse mirror does.
   */
  readonly sparseIndexes?: boolean;
  /** Serve HTTPS with this certificate (http-fakes.ts `makeTls`); `url` is then `https://…`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /**
   * Write distribution's access log (one line per request, Apache combined format: method, path,
   * status, User-Agent) into `logFile`, for counting the requests that reached it.
   */
  readonly accessLog?: boolean;
}

export interface Registry {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`) */
  readonly url: string;
  /** `127.0.0.1:PORT`, as skopeo's `docker://` references want it. */
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  /** The distribution major version that runs. */
  readonly version: 2 | 3;
  /** Stops the registry and removes its temporary directory; idempotent. */
  stop(): Promise<void>;
}

/**
 * A throwaway Google service account (its RSA key generated here, known to nobody): the v3 gcs
 * driver insists on service-account credentials (`keyfile` or `credentials`; without either it
 * asks for Application Default Credentials and fails to start), although with
 * `STORAGE_EMULATOR_HOST` set its storage client sends none. The key would only sign redirect
 * URLs (disabled here) and the OAuth token requests of its resumable uploads, which the proxy of
 * fake-gcs.ts answers with a dummy token.
 */
function fakeServiceAccount(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    type: 'service_account',
    project_id: 'geosync-test',
    private_key_id: 'geosync-test',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: 'registry@geosync-test.iam.gserviceaccount.com',
    client_id: '1',
    token_uri: 'https://oauth2.googleapis.com/token',
  });
}

function storageYaml(storage: RegistryStorage, dir: string, version: 2 | 3): string {
  if (storage.type === 'filesystem') {
    return `  filesystem: {rootdirectory: ${JSON.stringify(storage.root)}}\n`;
  }
  if (storage.type === 'azure') {
    const azure = {
      accountname: storage.azurite.accountName,
      accountkey: storage.azurite.accountKey,
      container: storage.container,
      // Path-style Azurite URL; without it the driver builds https://<account>.blob.core.windows.net.
      serviceurl: storage.azurite.blobUrl,
      credentials: { type: 'shared_key' },
      ...(storage.rootDirectory !== undefined ? { rootdirectory: storage.rootDirectory } : {}),
    };
    return `  azure: ${JSON.stringify(azure)}\n`;
  }
  if (storage.type === 'gcs') {
    const keyfile = path.join(dir, 'gcs-service-account.json');
    fs.writeFileSync(keyfile, fakeServiceAccount(), { mode: 0o600 });
    const gcs = {
      bucket: storage.bucket,
      keyfile,
      ...(storage.rootDirectory !== undefined ? { rootdirectory: storage.rootDirectory } : {}),
    };
    return `  gcs: ${JSON.stringify(gcs)}\n`;
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
    // 3.x addresses buckets virtual-host style (`<bucket>.<endpoint host>`) unless told otherwise,
    // which an endpoint given as an IP address cannot serve; 2.8 always used the path.
    ...(version === 3 ? { forcepathstyle: true } : {}),
  };
  return `  s3: ${JSON.stringify(s3)}\n`;
}

/** https://distribution.github.io/distribution/about/configuration/#tls */
function tlsYaml(tls: RegistryOptions['tls']): string {
  return tls
    ? `, tls: {certificate: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)}}`
    : '';
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
  const cloud = opts.storage.type === 'azure' || opts.storage.type === 'gcs';
  const version = opts.version ?? 3;
  if (cloud && version !== 3) {
    throw new Error(`${opts.storage.type} storage needs distribution 3 (version: 3)`);
  }
  // Resolved first: a missing build fails before anything is started.
  const command = version === 3 ? toolPath('registry') : 'docker-registry';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  if (opts.auth) {
    const lines: string[] = [];
    for (const user of [opts.auth].flat()) {
      const { stdout } = await run('htpasswd', ['-Bbn', user.username, user.password], { timeoutMs: 10_000 });
      lines.push(stdout.trim());
    }
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    auth = `auth:\n  htpasswd: {realm: geosync, path: ${JSON.stringify(file)}}\n`;
  } else if (opts.tokenAuth) {
    auth = tokenAuthYaml(opts.tokenAuth.server, opts.tokenAuth.realm);
  }
  const config = [
    'version: 0.1',
    `log: {level: warn, accesslog: {disabled: ${!opts.accessLog}}}`,
    'storage:',
    storageYaml(opts.storage, dir, version).trimEnd(),
    '  delete: {enabled: true}',
    '  redirect: {disable: true}',
    '  cache: {blobdescriptor: inmemory}',
    `http: {addr: "${host}", secret: ${JSON.stringify(opts.secret ?? 'geosync-test')}${tlsYaml(opts.tls)}}`,
    auth,
    notificationsYaml(opts.notifications),
    opts.proxyRemoteUrl ? `proxy: {remoteurl: ${JSON.stringify(opts.proxyRemoteUrl)}}\n` : '',
    opts.sparseIndexes ? 'validation: {manifests: {indexes: {platforms: none}}}\n' : '',
  ].join('\n');
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, config);

  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  if (opts.storage.type === 'gcs') {
    for (const k of ['GOOGLE_APPLICATION_CREDENTIALS', 'NO_PROXY', 'no_proxy', 'https_proxy']) delete env[k];
    // STORAGE_EMULATOR_HOST, the Go storage client's emulator switch: its JSON API calls go to
    // that host, unauthenticated (https://pkg.go.dev/cloud.google.com/go/storage#hdr-Creating_a_Client);
    // the rest reaches fake-gcs-server through its proxy for www.googleapis.com (fake-gcs.ts).
    Object.assign(env, opts.storage.gcs.clientEnv);
  }
  const proc = spawnManaged('registry', command, ['serve', configFile], { logDir: dir, env });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= proc.stop().then(() => fs.rmSync(dir, { recursive: true, force: true }));
    return stopped;
  };
  const url = `${opts.tls ? 'https' : 'http'}://${host}`;
  try {
    // Any HTTP answer (401 with auth) means it serves; 5xx means its storage is not usable.
    await waitForHttp(`${url}/v2/`, {
      timeoutMs: opts.timeoutMs ?? 20_000,
      ready: (s) => s < 500,
      proc,
      ...(opts.tls ? { caFile: opts.tls.caFile } : {}),
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, host, port, logFile: proc.logFile, version, stop };
}
