/**
 * Shared helpers of the end-to-end scenarios: what a pulled OCI layout holds (and whether it is
 * byte-for-byte what was pushed), what a region's own storage holds (S3 bucket or directory),
 * replication by the S3 API, geosync's /metrics and Envoy's admin stats, and timings.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULTS } from '../../src/config/defaults';
import {
  startDeployment,
  type Deployment,
  type DeploymentOptions,
  type RegionDeployment,
} from '../support/deployment';
import { ENVOY_STAT, statValue } from '../support/envoy';
import { crane, oras, regctl, type Env } from '../support/oci-clients';
import { scrape, sum } from '../support/prometheus';
import { blobDataKey, listObjects, replicateBucket, repositoryPrefix } from '../support/s3-layout';
import { skopeoPull } from '../support/skopeo';
import { MANIFEST_ACCEPT, type OciImage, type OciIndex } from '../support/oci-image';

/**
 * geosync's lookup deadline in the end-to-end deployments: its default (`lookupTimeoutMs`, the
 * shortest per-region deadline; `lookupTimeoutMaxMs` the longest), what users get. A suite that
 * fails on it has found a product problem, not a setting for the test to raise.
 */
export const E2E_LOOKUP_TIMEOUT_MS = DEFAULTS.lookupTimeoutMs;

/** Temporary directories of one test file, removed by `removeAll()` in afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `geosync-e2e-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** What one e2e file runs against; `d`, `a`, `b` and `c` are usable inside its hooks and tests. */
export interface E2eDeployment {
  readonly d: Deployment;
  readonly a: RegionDeployment;
  readonly b: RegionDeployment;
  readonly c: RegionDeployment;
  readonly tmp: TempDirs;
}

/**
 * Starts the file's deployment before its tests (after any beforeAll registered earlier, which
 * `options` as a function can read) and stops it, and removes its temporary directories, after
 * them. Every geosync setting is geosync's default (the lookup deadlines included), except
 * `workers`: one (a single process), unless the file is about workers and says how many. Each
 * worker is a process that loads the whole program, and a suite that is not about them would pay
 * a supervisor and a worker per core in every region for nothing.
 */
export function useDeployment(options: DeploymentOptions | (() => DeploymentOptions)): E2eDeployment {
  let started: Deployment | undefined;
  const tmp = new TempDirs();
  beforeAll(async () => {
    const opts = typeof options === 'function' ? options() : options;
    started = await startDeployment({ workers: 1, ...opts });
  });
  afterAll(async () => {
    try {
      await started?.stop();
    } finally {
      tmp.removeAll();
    }
  });
  const deployment = (): Deployment => {
    if (!started) throw new Error('the deployment starts in beforeAll: use it in hooks and tests');
    return started;
  };
  return {
    d: view(deployment),
    a: view(() => deployment().region('a')),
    b: view(() => deployment().region('b')),
    c: view(() => deployment().region('c')),
    tmp,
  };
}

/** An object that reads every property from `target()` when it is used, not when it is made. */
function view<T extends object>(target: () => T): T {
  return new Proxy({} as T, {
    get: (_, key) => {
      const t = target();
      const value: unknown = Reflect.get(t, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Pulled OCI layouts

export interface LayoutDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** The descriptor `index.json` of the layout at `dir` holds for `tag`. */
export function layoutRef(dir: string, tag: string): LayoutDescriptor {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: (LayoutDescriptor & { annotations?: Record<string, string> })[];
  };
  const found = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!found) throw new Error(`no '${tag}' in ${dir}/index.json`);
  return found;
}

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return path.join(dir, 'blobs', algorithm, hex);
}

/** sha256 and size of a file, read as a stream (large layers never sit in memory). */
export async function hashFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Asserts the blob `digest` is in the layout at `dir`, with exactly that digest (and `size`). */
export async function expectBlob(dir: string, digest: string, size?: number): Promise<void> {
  const file = blobPath(dir, digest);
  expect(fs.existsSync(file) ? digest : `missing ${digest}`).toBe(digest);
  const actual = await hashFile(file);
  expect(actual.digest).toBe(digest);
  if (size !== undefined) expect(actual.size).toBe(size);
}

/**
 * Asserts the image pulled into `dir` under `tag` is the pushed `image`: the same manifest digest
 * (the registry served the pushed bytes, no conversion), and every blob re-hashed from disk.
 */
export async function expectPulledImage(
  dir: string,
  tag: string,
  image: Pick<OciImage, 'manifestDigest' | 'manifestSize' | 'configDigest' | 'layerDigests' | 'layerSizes'>,
): Promise<void> {
  const ref = layoutRef(dir, tag);
  expect(ref.digest).toBe(image.manifestDigest);
  await expectBlob(dir, image.manifestDigest, image.manifestSize);
  await expectBlob(dir, image.configDigest);
  for (const [i, layer] of image.layerDigests.entries()) await expectBlob(dir, layer, image.layerSizes[i]);
}

/**
 * What crane, regctl and oras leave in a layout: the image under `tag`, or, for crane (whose
 * layout names no tag), as its one manifest.
 */
export async function expectLayoutHolds(
  dir: string,
  tag: string | undefined,
  image: Pick<OciImage, 'manifestDigest' | 'manifestSize' | 'configDigest' | 'layerDigests' | 'layerSizes'>,
): Promise<void> {
  if (tag) return expectPulledImage(dir, tag, image);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  expect(index.manifests.map((m) => m.digest)).toEqual([image.manifestDigest]);
  await expectBlob(dir, image.manifestDigest, image.manifestSize);
  await expectBlob(dir, image.configDigest);
  for (const [i, layer] of image.layerDigests.entries()) await expectBlob(dir, layer, image.layerSizes[i]);
}

/** The clients that pull a whole image into an OCI layout on disk. */
export type LayoutClient = 'skopeo' | 'crane' | 'regctl' | 'oras';

/**
 * Pulls `<host>/<repository>:v1` with `client`, as its users run it, into the layout `dir`, and
 * checks the layout holds `image`, every blob re-hashed.
 */
export async function pullIntoLayout(
  client: LayoutClient,
  from: { readonly host: string; readonly repository: string },
  dir: string,
  image: OciImage,
  env: Env,
): Promise<void> {
  const { host, repository } = from;
  const src = `${host}/${repository}:v1`;
  if (client === 'skopeo') await skopeoPull({ host, repository, reference: 'v1' }, dir, { destTag: 'v1' });
  if (client === 'crane') await crane(['pull', '--format=oci', src, dir], env);
  if (client === 'regctl') await regctl(['image', 'copy', src, `ocidir://${dir}:v1`], env, [host]);
  if (client === 'oras') await oras(['cp', '--from-plain-http', '--to-oci-layout', src, `${dir}:v1`], env);
  // crane's layout names no tag: its one manifest is the image.
  await expectLayoutHolds(dir, client === 'crane' ? undefined : 'v1', image);
}

/** Same for a multi-platform index pulled with `--all`: the index and every child. */
export async function expectPulledIndex(dir: string, tag: string, index: OciIndex): Promise<void> {
  const ref = layoutRef(dir, tag);
  expect(ref.digest).toBe(index.indexDigest);
  await expectBlob(dir, index.indexDigest, index.indexSize);
  const served = JSON.parse(fs.readFileSync(blobPath(dir, index.indexDigest), 'utf8')) as {
    manifests: LayoutDescriptor[];
  };
  expect(served.manifests.map((m) => m.digest)).toEqual(index.manifests.map((m) => m.manifestDigest));
  for (const child of index.manifests) {
    await expectBlob(dir, child.manifestDigest, child.manifestSize);
    await expectBlob(dir, child.configDigest);
    for (const [i, layer] of child.layerDigests.entries()) await expectBlob(dir, layer, child.layerSizes[i]);
  }
}

/** Every digest an image (or index) consists of: manifests, configs, layers. */
export function digestsOf(x: OciImage | OciIndex): string[] {
  if ('indexDigest' in x) {
    return [
      x.indexDigest,
      ...x.manifests.flatMap((m) => [m.manifestDigest, m.configDigest, ...m.layerDigests]),
    ];
  }
  return [x.manifestDigest, x.configDigest, ...x.layerDigests];
}

// ---------------------------------------------------------------------------------------------
// A region's own storage

/** Every key under `prefix` in `bucket` (paginated). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await listObjects(client, bucket, prefix)).map((o) => o.key);
}

function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    const child = path.posix.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(root, child));
    else out.push(child);
  }
  return out;
}

/** Keys (storage paths) under `prefix` in a region's own storage, bucket or directory. */
export async function storageKeys(
  d: Deployment,
  region: RegionDeployment,
  prefix: string,
): Promise<string[]> {
  if (region.backend === 'azure' && d.azurite && region.bucket) {
    const keys: string[] = [];
    for await (const blob of d.azurite.containerClient(region.bucket).listBlobsFlat({ prefix }))
      keys.push(blob.name);
    return keys;
  }
  if (region.backend === 'gcs' && d.gcs && region.bucket) {
    const [files] = await d.gcs.storage().bucket(region.bucket).getFiles({ prefix });
    return files.map((f) => f.name);
  }
  if (region.bucket) {
    if (!d.swift) throw new Error('s3 region without Swift');
    return listKeys(storageClient(d), region.bucket, prefix);
  }
  if (!region.storageRoot) throw new Error(`region ${region.name} has no storage`);
  return listFiles(region.storageRoot, prefix);
}

const clients = new WeakMap<Deployment, S3Client>();

/** One S3 client per deployment (straight to Swift, not through any region's proxy). */
export function storageClient(d: Deployment): S3Client {
  if (!d.swift) throw new Error('deployment has no S3');
  let c = clients.get(d);
  if (!c) {
    c = d.swift.client();
    clients.set(d, c);
  }
  return c;
}

export { blobDataKey, repositoryPrefix };

/**
 * What a region's storage holds of `repository` and of the blobs `digests`: the repository's keys
 * (links, tags, uploads) and the blob data keys present. Both empty means nothing was written.
 */
export async function storedContent(
  d: Deployment,
  region: RegionDeployment,
  repository: string,
  digests: readonly string[],
): Promise<{ repositoryKeys: string[]; blobKeys: string[] }> {
  const repositoryKeys = await storageKeys(d, region, repositoryPrefix(repository));
  const blobKeys: string[] = [];
  for (const digest of digests) {
    const key = blobDataKey(digest);
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    if ((await storageKeys(d, region, dir)).includes(key)) blobKeys.push(key);
  }
  return { repositoryKeys, blobKeys };
}

/** Replication as a pipeline would do it (test/support/s3-layout.ts); returns the keys copied. */
export async function replicateS3(
  d: Deployment,
  from: RegionDeployment,
  to: RegionDeployment,
  repository: string,
  digests: readonly string[],
): Promise<string[]> {
  if (!from.bucket || !to.bucket) throw new Error('replicateS3 needs two S3 regions');
  return (await replicateBucket(storageClient(d), from.bucket, to.bucket, repository, digests)).keys;
}

// ---------------------------------------------------------------------------------------------
// Counters

/** The sum of the samples of `name` whose labels include all of `labels`, from Prometheus text. */
export const sampleSum = sum;

/** geosync's `/metrics` of a region. */
export function geosyncMetrics(region: RegionDeployment): Promise<string> {
  return scrape(region.adminUrl);
}

/** `geosync_decisions_total` for `outcome` (and `kind`), summed over the other labels. */
export async function decisions(region: RegionDeployment, outcome: string, kind?: string): Promise<number> {
  return sampleSum(await geosyncMetrics(region), 'geosync_decisions_total', {
    geosync_outcome: outcome,
    ...(kind ? { geosync_kind: kind } : {}),
  });
}

/** Snapshot of the numbers a scenario compares before and after, for one region. */
export interface Counters {
  /** Envoy: internal redirects the router followed (to a sibling). */
  readonly redirects: number;
  /** Envoy: ext_proc streams the pull cluster opened to geosync (one per 404 it asked about). */
  readonly extProcStreams: number;
  /** Envoy: requests sent to the local registry through the pull cluster. */
  readonly localPulls: number;
  readonly proxied: number;
  readonly pass: number;
  readonly notFound: number;
  readonly metrics: string;
}

export async function counters(region: RegionDeployment): Promise<Counters> {
  const metrics = await geosyncMetrics(region);
  const stats = await region.envoy.stats();
  const stat = (name: string | RegExp) => statValue(stats, name);
  return {
    redirects: stat(ENVOY_STAT.redirectsFollowed),
    extProcStreams: stat(ENVOY_STAT.extProc('streams_started')),
    localPulls: stat(ENVOY_STAT.upstreamRequests('local_registry')),
    proxied: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'proxied' }),
    pass: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'pass' }),
    notFound: sampleSum(metrics, 'geosync_decisions_total', { geosync_outcome: 'not_found' }),
    metrics,
  };
}

/** Count and total seconds of geosync's lookups with `outcome` (its own measure of lookup time). */
export function lookupDurations(metrics: string, outcome: string): { count: number; seconds: number } {
  return {
    count: sampleSum(metrics, 'geosync_lookup_duration_seconds_count', { geosync_outcome: outcome }),
    seconds: sampleSum(metrics, 'geosync_lookup_duration_seconds_sum', { geosync_outcome: outcome }),
  };
}

/** Rescued pulls of a region, by the source region geosync chose. */
export function rescuedFrom(metrics: string, source: string): number {
  return sampleSum(metrics, 'geosync_pulls_rescued_total', { geosync_source_region: source });
}

// ---------------------------------------------------------------------------------------------
// Timing and HTTP

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** Polls `check` until it returns true; throws after `timeoutMs` with `what`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { MANIFEST_ACCEPT };

/** A request through a region's Envoy, as an OCI client makes it; the body is read (or dropped). */
export async function registryRequest(
  region: RegionDeployment,
  pathAndQuery: string,
  opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; body: Buffer; ms: number }> {
  const { value, ms } = await timed(async () => {
    const res = await fetch(`${region.url}${pathAndQuery}`, {
      method: opts.method ?? 'GET',
      headers: { accept: MANIFEST_ACCEPT, ...opts.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  });
  return { ...value, ms };
}

/**
 * `skopeoPull` from a region's Envoy; when it fails, the error also carries what that region's
 * geosync decided (its non-`pass` decision lines) and the Envoy's ext_proc and redirect counters,
 * so a failing run says whether the lookup timed out, found nothing, or was never asked.
 */
export async function pullFrom(
  region: RegionDeployment,
  src: { readonly repository: string; readonly reference: string },
  destDir: string,
  opts: Parameters<typeof skopeoPull>[2] = {},
): Promise<void> {
  try {
    await skopeoPull({ host: region.host, ...src }, destDir, opts);
  } catch (err) {
    (err as Error).message += `\n--- region ${region.name} ---\n${await diagnostics(region)}`;
    throw err;
  }
}

export async function diagnostics(region: RegionDeployment): Promise<string> {
  const decisionsLog = (region.geosync()?.output() ?? '(geosync not running)')
    .split('\n')
    .filter((l) => l.includes('"decision"') && !l.includes('"outcome":"pass"'))
    .slice(-20)
    .join('\n');
  const stats = await region.envoy.stats().catch(() => new Map<string, number>());
  const interesting = [...stats]
    .filter(([k, v]) => v > 0 && /ext_proc\.|internal_redirect|no_route/.test(k))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return `geosync decisions:\n${decisionsLog}\nenvoy counters:\n${interesting}`;
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** One HTTP/1.1 request with any Host header (fetch does not let a caller choose it). */
export function rawRequest(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), accept: MANIFEST_ACCEPT, ...opts.headers },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs ?? 10_000} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A client that sends `sibling`'s host name to `via`'s Envoy (with or without the port, with or
 * without geosync's redirect marker, GET and HEAD) gets Envoy's own 404 and no byte of the
 * sibling's content; the sibling's Envoy sees none of these requests.
 */
export async function expectNoSiblingContent(
  via: RegionDeployment,
  sibling: RegionDeployment,
  pathAndQuery: string,
): Promise<void> {
  const siblingRequests = ENVOY_STAT.downstreamRequests;
  const before = await sibling.envoy.stat(siblingRequests);
  const noRouteBefore = await via.envoy.stat(ENVOY_STAT.noRoute);
  const host = new URL(sibling.crossRegion.url).host;
  const attempts = [
    { host },
    { host: host.split(':')[0] as string },
    { host, headers: { 'x-geosync-redirect': '1' } },
    { host, headers: { 'x-geosync-redirect': '1' }, method: 'HEAD' },
  ];
  for (const attempt of attempts) {
    const res = await rawRequest(`${via.url}${pathAndQuery}`, attempt);
    expect({ attempt, status: res.status }).toEqual({ attempt, status: 404 });
    expect(res.headers['docker-content-digest']).toBeUndefined();
  }
  expect(await via.envoy.stat(ENVOY_STAT.noRoute)).toBe(noRouteBefore + attempts.length);
  expect(await sibling.envoy.stat(siblingRequests)).toBe(before);
}
