/**
 * Generated OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * random layers of chosen sizes, a config, a manifest, and multi-platform indexes with child
 * manifests. Every call makes new content (random bytes), so every image has new digests: no image
 * can be pulled from the internet here, and tests need content that exists nowhere yet.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The `accept` of a manifest GET as OCI clients send it (OCI and Docker manifests and indexes). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.manifest,
  MEDIA_TYPES.index,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Record<string, string>;
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
}

export interface OciImage {
  /** The layout directory (skopeo source `oci:<dir>:<tag>`). */
  readonly dir: string;
  readonly tag: string;
  readonly manifestDigest: string;
  readonly manifestSize: number;
  readonly configDigest: string;
  readonly layerDigests: readonly string[];
  readonly layerSizes: readonly number[];
}

export interface OciIndex {
  readonly dir: string;
  readonly tag: string;
  readonly indexDigest: string;
  readonly indexSize: number;
  readonly manifests: readonly (Omit<OciImage, 'tag'> & { readonly platform: Platform })[];
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function writeBlob(dir: string, data: Buffer): { digest: string; size: number } {
  const digest = digestOf(data);
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(blobs, digest.slice('sha256:'.length)), data);
  return { digest, size: data.length };
}

/** A one-file ustar archive (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html). */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(content.length.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
  header.write('00000000000\0', 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

function readIndex(dir: string): { schemaVersion: number; manifests: Descriptor[] } {
  const file = path.join(dir, 'index.json');
  if (!fs.existsSync(file)) return { schemaVersion: 2, manifests: [] };
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { schemaVersion: number; manifests: Descriptor[] };
}

/** Adds `desc` to the layout's index.json under `tag`, replacing an older entry for that tag. */
function tagInLayout(dir: string, tag: string, desc: Descriptor): void {
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = readIndex(dir);
  const ref = 'org.opencontainers.image.ref.name';
  index.manifests = index.manifests.filter((m) => m.annotations?.[ref] !== tag);
  index.manifests.push({ ...desc, annotations: { [ref]: tag } });
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
}

function buildManifest(
  dir: string,
  layerSizes: readonly number[],
  platform: Platform,
): Omit<OciImage, 'tag'> & { platform: Platform } {
  // Compressed layers: skopeo compresses uncompressed ones on the way to a registry, which would
  // change every digest between the layout and the registry.
  const tars = layerSizes.map((size, i) => tarOf(`layer-${i}.bin`, randomBytes(size)));
  const layers = tars.map((tar) => writeBlob(dir, gzipSync(tar)));
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      created: new Date().toISOString(),
      rootfs: { type: 'layers', diff_ids: tars.map(digestOf) },
      config: { Labels: { 'geosync.test.nonce': randomBytes(8).toString('hex') } },
    }),
  );
  const cfg = writeBlob(dir, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.layer, digest: l.digest, size: l.size })),
    }),
  );
  const m = writeBlob(dir, manifest);
  return {
    dir,
    manifestDigest: m.digest,
    manifestSize: m.size,
    configDigest: cfg.digest,
    layerDigests: layers.map((l) => l.digest),
    layerSizes: layers.map((l) => l.size),
    platform,
  };
}

/**
 * Writes a single-platform image into the layout at `dir` (created or extended) under `tag`.
 * Layer sizes are those of the random file in each layer; the blobs (gzip of a one-file tar) are a
 * little larger, see `layerSizes` in the result.
 */
export function createOciImage(
  dir: string,
  opts: { tag?: string; layerSizes?: readonly number[]; platform?: Platform } = {},
): OciImage {
  const tag = opts.tag ?? 'latest';
  const built = buildManifest(
    dir,
    opts.layerSizes ?? [1024, 4096],
    opts.platform ?? { os: 'linux', architecture: 'amd64' },
  );
  tagInLayout(dir, tag, {
    mediaType: MEDIA_TYPES.manifest,
    digest: built.manifestDigest,
    size: built.manifestSize,
  });
  return {
    dir,
    tag,
    manifestDigest: built.manifestDigest,
    manifestSize: built.manifestSize,
    configDigest: built.configDigest,
    layerDigests: built.layerDigests,
    layerSizes: built.layerSizes,
  };
}

/** Writes a multi-platform image index with one child manifest per platform under `tag`. */
export function createOciIndex(
  dir: string,
  opts: { tag?: string; platforms?: readonly (Platform & { layerSizes?: readonly number[] })[] } = {},
): OciIndex {
  const tag = opts.tag ?? 'latest';
  const platforms = opts.platforms ?? [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ];
  const manifests = platforms.map((p) =>
    buildManifest(dir, p.layerSizes ?? [1024], { os: p.os, architecture: p.architecture }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: manifests.map((m) => ({
        mediaType: MEDIA_TYPES.manifest,
        digest: m.manifestDigest,
        size: m.manifestSize,
        platform: m.platform,
      })),
    }),
  );
  const i = writeBlob(dir, index);
  tagInLayout(dir, tag, { mediaType: MEDIA_TYPES.index, digest: i.digest, size: i.size });
  return { dir, tag, indexDigest: i.digest, indexSize: i.size, manifests };
}
