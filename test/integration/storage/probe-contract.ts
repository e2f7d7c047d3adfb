/**
 * The ObjectProbe contract, run against every implementation (FsProbe, S3Probe) over content a
 * real distribution registry wrote with its own driver. Keys are those of src/storage/keys.ts.
 */
import { createHash } from 'node:crypto';
import type { OciImage } from '../../support/oci/oci-image';
import { MAX_MANIFEST_BYTES } from '../../../src/oci/manifest';
import { parseDigest } from '../../../src/oci/reference';
import {
  blobDataKey,
  layerLinkKey,
  manifestRevisionLinkKey,
  tagCurrentLinkKey,
  tagIndexLinkKey,
  tagsFolderKey,
} from '../../../src/storage/keys';
import type { ObjectProbe } from '../../../src/storage/probe';

export interface ContractFixture {
  readonly probe: ObjectProbe;
  /** Pushed as `<repository>:<image.tag>` before the suite runs. */
  readonly image: OciImage;
  readonly repository: string;
  /** When the push started and finished (they bound lastModified). */
  readonly pushStartedAt: Date;
  readonly pushedAt: Date;
  /** The registry that wrote the content (no auth), for tagging the image again. */
  readonly registryUrl: string;
}

/**
 * S3 LastModified has whole seconds (Swift's s3api rounds up: a link written at 12:00:00.4 is
 * dated 12:00:01); a filesystem's mtime is finer.
 */
const RESOLUTION_MS = 1_000;

const digest = (d: string) => parseDigest(d)!;

export function probeContract(name: string, fixture: () => ContractFixture): void {
  describe(`ObjectProbe contract: ${name}`, () => {
    const signal = () => new AbortController().signal;

    it('finds the tag link, with a recent lastModified', async () => {
      const f = fixture();
      const r = await f.probe.head(tagCurrentLinkKey(f.repository, f.image.tag), { signal: signal() });
      expect(r).toMatchObject({ status: 'found' });
      if (r.status !== 'found') return;
      // S3 LastModified has one-second resolution.
      expect(r.lastModified!.getTime()).toBeGreaterThan(f.pushedAt.getTime() - 120_000);
      expect(r.lastModified!.getTime()).toBeLessThanOrEqual(f.pushedAt.getTime() + 1_000);
    });

    it('finds the manifest revision link and every layer link', async () => {
      const f = fixture();
      const keys = [
        manifestRevisionLinkKey(f.repository, digest(f.image.manifestDigest)),
        ...f.image.layerDigests.map((d) => layerLinkKey(f.repository, digest(d))),
      ];
      const results = await Promise.all(keys.map((k) => f.probe.head(k, { signal: signal() })));
      expect(results.map((r) => r.status)).toEqual(keys.map(() => 'found'));
    });

    // What src/staleness/origin.ts relies on: a revision link is dated by the push that wrote it.
    it("dates the manifest revision link within its push, to the storage's resolution", async () => {
      const f = fixture();
      const r = await f.probe.head(manifestRevisionLinkKey(f.repository, digest(f.image.manifestDigest)), {
        signal: signal(),
      });
      if (r.status !== 'found') throw new Error(`revision link: ${JSON.stringify(r)}`);
      expect(r.lastModified!.getTime()).toBeGreaterThanOrEqual(f.pushStartedAt.getTime() - RESOLUTION_MS);
      expect(r.lastModified!.getTime()).toBeLessThanOrEqual(f.pushedAt.getTime() + RESOLUTION_MS);
    });

    // What src/tag-list/ relies on: the folder of tags lists as distribution's own tags/list does.
    it('lists the tag folders of a repository; a repository it does not hold lists empty', async () => {
      const f = fixture();
      const listed = await f.probe.list(tagsFolderKey(f.repository), { signal: signal(), max: 100 });
      expect(listed).toEqual({ status: 'found', names: [f.image.tag] });
      const none = await f.probe.list(tagsFolderKey('nobody/here'), { signal: signal(), max: 100 });
      expect(none).toEqual({ status: 'found', names: [] });
      const r = await f.probe.list(tagsFolderKey(f.repository), { signal: AbortSignal.abort(), max: 100 });
      expect(r).toMatchObject({ status: 'error', kind: 'aborted' });
    });

    it('finds blob data', async () => {
      const f = fixture();
      const r = await f.probe.head(blobDataKey(digest(f.image.layerDigests[0]!)), { signal: signal() });
      expect(r).toMatchObject({ status: 'found' });
    });

    it('answers not_found for a key that does not exist', async () => {
      const f = fixture();
      const missing = `sha256:${'0'.repeat(64)}`;
      const keys = [
        layerLinkKey(f.repository, digest(missing)),
        layerLinkKey('other/repository', digest(f.image.layerDigests[0]!)),
        tagCurrentLinkKey(f.repository, 'no-such-tag'),
        blobDataKey(digest(missing)),
      ];
      const results = await Promise.all(keys.map((k) => f.probe.head(k, { signal: signal() })));
      expect(results).toEqual(keys.map(() => ({ status: 'not_found' })));
    });

    // What tag freshness (src/tag-freshness/) reads: the digest a tag points at, and the tag's history.
    it("reads the tag's current link: the manifest digest, dated like head()", async () => {
      const f = fixture();
      const key = tagCurrentLinkKey(f.repository, f.image.tag);
      const [read, head] = await Promise.all([
        f.probe.read(key, { signal: signal() }),
        f.probe.head(key, { signal: signal() }),
      ]);
      if (read.status !== 'found' || head.status !== 'found') throw new Error(JSON.stringify({ read, head }));
      expect(read.text.trim()).toBe(f.image.manifestDigest);
      expect(read.lastModified!.getTime()).toBe(head.lastModified!.getTime());
      const index = tagIndexLinkKey(f.repository, f.image.tag, f.image.manifestDigest);
      expect(await f.probe.head(index, { signal: signal() })).toMatchObject({ status: 'found' });
      const never = tagIndexLinkKey(f.repository, f.image.tag, `sha256:${'0'.repeat(64)}`);
      expect(await f.probe.head(never, { signal: signal() })).toEqual({ status: 'not_found' });
    });

    // What reading a found manifest (src/locate/manifest-contents.ts) reads: its stored bytes.
    it('reads a manifest whole within maxBytes, and only the first maxBytes of it below that', async () => {
      const f = fixture();
      const key = blobDataKey(digest(f.image.manifestDigest));
      const whole = await f.probe.read(key, { signal: signal(), maxBytes: MAX_MANIFEST_BYTES });
      if (whole.status !== 'found') throw new Error(JSON.stringify(whole));
      const sha = createHash('sha256').update(Buffer.from(whole.text, 'utf8')).digest('hex');
      expect(`sha256:${sha}`).toBe(f.image.manifestDigest);
      const head = await f.probe.read(key, { signal: signal(), maxBytes: 10 });
      expect(head).toMatchObject({ status: 'found', text: whole.text.slice(0, 10) });
    });

    it('reads not_found for a link that does not exist, and answers an aborted read at once', async () => {
      const f = fixture();
      const key = tagCurrentLinkKey(f.repository, 'no-such-tag');
      expect(await f.probe.read(key, { signal: signal() })).toEqual({ status: 'not_found' });
      const aborted = new AbortController();
      aborted.abort();
      expect(
        await f.probe.read(tagCurrentLinkKey(f.repository, f.image.tag), { signal: aborted.signal }),
      ).toMatchObject({
        status: 'error',
        kind: 'aborted',
      });
    });

    it('answers error/aborted, without touching storage, when the signal has already aborted', async () => {
      const f = fixture();
      const controller = new AbortController();
      controller.abort();
      const r = await f.probe.head(tagCurrentLinkKey(f.repository, f.image.tag), {
        signal: controller.signal,
      });
      expect(r).toMatchObject({ status: 'error', kind: 'aborted' });
    });

    // What a tag list with more tags than one listing holds relies on (src/tag-list/window.ts):
    // folders in the store's order (`v1-rc/` before `v1/`), `more` past `max`, and `startAfter`.
    // After the case that lists the repository with its one tag: this one adds tags to it.
    it('lists in folder order, says more remain past max, and starts after a name or a folder', async () => {
      const f = fixture();
      const accept = 'application/vnd.oci.image.manifest.v1+json';
      const got = await fetch(`${f.registryUrl}/v2/${f.repository}/manifests/${f.image.tag}`, {
        headers: { accept },
      });
      const manifest = Buffer.from(await got.arrayBuffer());
      const contentType = got.headers.get('content-type') ?? accept;
      for (const tag of ['a', 'v1-rc', 'v1.0', 'v10', 'v1_x']) {
        const put = await fetch(`${f.registryUrl}/v2/${f.repository}/manifests/${tag}`, {
          method: 'PUT',
          headers: { 'content-type': contentType },
          body: manifest,
        });
        expect(put.status).toBe(201);
      }
      const list = (max: number, startAfter?: string) =>
        f.probe.list(tagsFolderKey(f.repository), {
          signal: signal(),
          max,
          ...(startAfter === undefined ? {} : { startAfter }),
        });
      expect(f.image.tag).toBe('v1');
      expect(await list(100)).toEqual({
        status: 'found',
        names: ['a', 'v1-rc', 'v1.0', 'v1', 'v10', 'v1_x'],
      });
      expect(await list(2)).toEqual({ status: 'found', names: ['a', 'v1-rc'], more: true });
      expect(await list(100, 'v1')).toEqual({
        status: 'found',
        names: ['v1-rc', 'v1.0', 'v1', 'v10', 'v1_x'],
      });
      expect(await list(1, 'v1/~')).toEqual({ status: 'found', names: ['v10'], more: true });
      expect(await list(5, 'v1_x/~')).toEqual({ status: 'found', names: [] });
    });

    it('answers 100 concurrent heads, each correctly', async () => {
      const f = fixture();
      const keys = Array.from({ length: 100 }, (_, i) =>
        i % 2 ? tagCurrentLinkKey(f.repository, f.image.tag) : tagCurrentLinkKey(f.repository, `absent-${i}`),
      );
      const results = await Promise.all(keys.map((k) => f.probe.head(k, { signal: signal() })));
      expect(results.map((r) => r.status)).toEqual(keys.map((_, i) => (i % 2 ? 'found' : 'not_found')));
    });
  });
}
