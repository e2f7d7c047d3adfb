/**
 * What a pulled OCI layout holds, and whether it is byte for byte what was pushed: every blob
 * re-hashed from disk. And the clients that pull a whole image into one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { crane, oras, regctl, type Env } from '../clients/oci-clients';
import { skopeoPull } from '../clients/skopeo';
import type { OciImage, OciIndex } from './oci-image';

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
