/**
 * CNCF distribution v3 (scripts/client-versions' `registry`) on three storage drivers: filesystem,
 * azure (against Azurite) and gcs (against fake-gcs-server). For each, skopeo pushes a small image
 * and pulls it back, and the storage itself is read with its own SDK (`@azure/storage-blob`,
 * `@google-cloud/storage`, node:fs) to show distribution's layout is there: the tag's current
 * link, the repository's links and every blob's data under docker/registry/v2.
 *
 * What was seen against distribution 2.8 (the baseline case, Debian `docker-registry`, filesystem):
 * - The same keys on all four: per blob `blobs/sha256/<xx>/<hex>/data`, per layer and config a
 *   `_layers/.../link`, and the manifest's `_manifests/revisions/.../link`, tag
 *   `current/link` and tag `index/.../link`; no `_uploads` object is left after a push, and no
 *   other key (the exact list is asserted). Links hold the bare digest, `sha256:<hex>` with no
 *   newline, as in 2.8.
 * - Azure (seen on Azurite): `data` objects written by an upload (layers, config) are append
 *   blobs (the driver writes the upload as an AppendBlob and moves it with Copy Blob, which kept
 *   the type); those written whole (manifests, links) are block blobs. A reader must not assume
 *   one blob type.
 * - GCS: every committed object has content type application/octet-stream and no custom
 *   metadata (per the driver's source, an upload in progress is an object of content type
 *   application/x-docker-upload-session with `Session-URI`/`Offset` metadata). The driver's
 *   resumable uploads go to www.googleapis.com whatever STORAGE_EMULATOR_HOST says: see
 *   test/support/storage/fake-gcs.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REGISTRY_V2_ROOT } from '../../../src/storage/keys';
import { startAzurite, type Azurite } from '../../support/storage/azurite';
import { startFakeGcs, type FakeGcs } from '../../support/storage/fake-gcs';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { startRegistry, type Registry, type RegistryStorage } from '../../support/registries/registry';
import { skopeoPull, skopeoPush } from '../../support/clients/skopeo';

jest.setTimeout(120_000);

const REPOSITORY = 'team/app';
const TAG = 'v1';

/** One storage as the test reads it: its keys (below the registry's root) and their bytes. */
interface Backend {
  readonly storage: RegistryStorage;
  /** Every key under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  read(key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

async function filesystemBackend(tmp: string): Promise<Backend> {
  const root = path.join(tmp, 'storage');
  fs.mkdirSync(root);
  const walk = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = path.join(dir, e.name);
          return e.isDirectory() ? walk(p) : [path.relative(root, p)];
        })
      : [];
  return {
    storage: { type: 'filesystem', root },
    list: (prefix) => Promise.resolve(walk(path.join(root, prefix)).sort()),
    read: (key) => Promise.resolve(fs.readFileSync(path.join(root, key))),
    stop: () => Promise.resolve(),
  };
}

async function azureBackend(): Promise<Backend> {
  const azurite: Azurite = await startAzurite();
  try {
    await azurite.createContainer('registry');
  } catch (err) {
    await azurite.stop();
    throw err;
  }
  const container = azurite.containerClient('registry');
  return {
    storage: { type: 'azure', azurite, container: 'registry' },
    async list(prefix) {
      const keys: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix })) keys.push(b.name);
      return keys.sort();
    },
    read: (key) => container.getBlobClient(key).downloadToBuffer(),
    stop: () => azurite.stop(),
  };
}

async function gcsBackend(): Promise<Backend> {
  const gcs: FakeGcs = await startFakeGcs();
  try {
    await gcs.createBucket('registry');
  } catch (err) {
    await gcs.stop();
    throw err;
  }
  const bucket = gcs.storage().bucket('registry');
  return {
    storage: { type: 'gcs', gcs, bucket: 'registry' },
    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix });
      return files.map((f) => f.name).sort();
    },
    read: async (key) => (await bucket.file(key).download())[0],
    stop: () => gcs.stop(),
  };
}

const hexOf = (digest: string): string => digest.slice('sha256:'.length);
const blobData = (digest: string) =>
  `${REGISTRY_V2_ROOT}/blobs/sha256/${hexOf(digest).slice(0, 2)}/${hexOf(digest)}/data`;
const repo = `${REGISTRY_V2_ROOT}/repositories/${REPOSITORY}`;

describe.each([
  // The baseline the others are held to: the same keys and link contents.
  ['2.8', 'filesystem', (tmp: string) => filesystemBackend(tmp)],
  ['3', 'filesystem', (tmp: string) => filesystemBackend(tmp)],
  ['3', 'azure (Azurite)', () => azureBackend()],
  ['3', 'gcs (fake-gcs-server)', () => gcsBackend()],
] as const)('distribution %s on %s', (version, _name, start) => {
  let tmp: string;
  let backend: Backend | undefined;
  let registry: Registry | undefined;
  let image: OciImage;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-v3-backends-'));
    backend = await start(tmp);
    registry = await startRegistry({ storage: backend.storage, version: version === '3' ? 3 : 2 });
    // One layer over 256 KiB: the gcs driver uploads it in chunks of a resumable session.
    image = createOciImage(path.join(tmp, 'layout'), { tag: TAG, layerSizes: [3000, 600_000] });
  });

  afterAll(async () => {
    await registry?.stop();
    await backend?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('takes a push, serves the pull, and lays the image out in its storage', async () => {
    const r = registry as Registry;
    const b = backend as Backend;
    expect(r.version).toBe(version === '3' ? 3 : 2);
    await skopeoPush(image.dir, TAG, { host: r.host, repository: REPOSITORY });

    const pulled = path.join(tmp, 'pulled');
    await skopeoPull({ host: r.host, repository: REPOSITORY, reference: TAG }, pulled, { destTag: TAG });
    const index = JSON.parse(fs.readFileSync(path.join(pulled, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([image.manifestDigest]);
    for (const d of [image.configDigest, ...image.layerDigests]) {
      expect(fs.existsSync(path.join(pulled, 'blobs', 'sha256', hexOf(d)))).toBe(true);
    }

    // Exactly distribution's layout: no upload left behind (_uploads), nothing else.
    const digests = [image.manifestDigest, image.configDigest, ...image.layerDigests];
    expect(await b.list(`${REGISTRY_V2_ROOT}/`)).toEqual(
      [
        ...digests.map(blobData),
        ...[image.configDigest, ...image.layerDigests].map((d) => `${repo}/_layers/sha256/${hexOf(d)}/link`),
        `${repo}/_manifests/revisions/sha256/${hexOf(image.manifestDigest)}/link`,
        `${repo}/_manifests/tags/${TAG}/current/link`,
        `${repo}/_manifests/tags/${TAG}/index/sha256/${hexOf(image.manifestDigest)}/link`,
      ].sort(),
    );
    // The tag: its current link and its index entry name the manifest.
    const tagLink = `${repo}/_manifests/tags/${TAG}/current/link`;
    expect((await b.read(tagLink)).toString()).toBe(image.manifestDigest);
    const tagIndex = `${repo}/_manifests/tags/${TAG}/index/sha256/${hexOf(image.manifestDigest)}/link`;
    expect((await b.read(tagIndex)).toString()).toBe(image.manifestDigest);
    const revision = `${repo}/_manifests/revisions/sha256/${hexOf(image.manifestDigest)}/link`;
    expect((await b.read(revision)).toString()).toBe(image.manifestDigest);
    // The repository's layer links (config and layers), and every blob's data, byte for byte.
    for (const d of [image.configDigest, ...image.layerDigests]) {
      expect((await b.read(`${repo}/_layers/sha256/${hexOf(d)}/link`)).toString()).toBe(d);
    }
    for (const d of digests) {
      const data = await b.read(blobData(d));
      expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(d);
    }
  });
});
