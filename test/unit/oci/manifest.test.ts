import { createHash } from 'node:crypto';
import { manifestContents } from '../../../src/oci/manifest';
import { parseDigest } from '../../../src/oci/reference';

const hex = (c: string) => c.repeat(64);
const desc = (c: string, extra: Record<string, unknown> = {}) => ({
  digest: `sha256:${hex(c)}`,
  size: 1,
  ...extra,
});

function contents(doc: unknown) {
  const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
  const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)!;
  return manifestContents('team/app', digest, bytes);
}

const digestsOf = (r: ReturnType<typeof contents>) =>
  r.ok ? r.next.map((t) => `${t.kind}:${'digest' in t ? t.digest.hex[0] : ''}`) : r.why;

describe('manifestContents', () => {
  test.each([
    ['OCI image manifest', 'application/vnd.oci.image.manifest.v1+json'],
    ['Docker schema 2 manifest', 'application/vnd.docker.distribution.manifest.v2+json'],
  ])('%s: its config and layers, as blobs of the repository', (_name, mediaType) => {
    const r = contents({ schemaVersion: 2, mediaType, config: desc('c'), layers: [desc('1'), desc('2')] });
    expect(digestsOf(r)).toEqual(['blob:c', 'blob:1', 'blob:2']);
    expect(r.ok && r.next[0]).toMatchObject({ repository: 'team/app' });
  });

  test.each([
    ['OCI index', 'application/vnd.oci.image.index.v1+json'],
    ['Docker manifest list', 'application/vnd.docker.distribution.manifest.list.v2+json'],
  ])('%s: its child manifests, by digest', (_name, mediaType) => {
    const r = contents({ schemaVersion: 2, mediaType, manifests: [desc('a'), desc('b')] });
    expect(digestsOf(r)).toEqual(['manifest_by_digest:a', 'manifest_by_digest:b']);
  });

  test('without mediaType, the shape tells (the image spec makes the field optional)', () => {
    expect(digestsOf(contents({ schemaVersion: 2, config: desc('c'), layers: [desc('1')] }))).toEqual([
      'blob:c',
      'blob:1',
    ]);
    expect(digestsOf(contents({ schemaVersion: 2, manifests: [desc('a')] }))).toEqual([
      'manifest_by_digest:a',
    ]);
  });

  test('each digest once; invalid digests and non-distributable layers (urls) are skipped', () => {
    const r = contents({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: desc('c'),
      layers: [
        desc('1'),
        desc('1'),
        { digest: 'md5:abc' },
        null,
        desc('2', { urls: ['https://example.com/l'] }),
      ],
    });
    expect(digestsOf(r)).toEqual(['blob:c', 'blob:1']);
  });

  test('bytes that do not hash to the digest teach nothing (truncated, foreign)', () => {
    const bytes = Buffer.from(JSON.stringify({ config: desc('c'), layers: [] }));
    expect(manifestContents('team/app', parseDigest(`sha256:${hex('f')}`)!, bytes)).toEqual({
      ok: false,
      why: 'digest_mismatch',
    });
  });

  test('not JSON, not an object, or a media type that names nothing to pull', () => {
    expect(contents('{"config":')).toEqual({ ok: false, why: 'not_json' });
    expect(contents('42')).toEqual({ ok: false, why: 'not_json' });
    expect(contents({ mediaType: 'application/vnd.docker.distribution.manifest.v1+json' })).toEqual({
      ok: false,
      why: 'media_type',
    });
    expect(contents({ schemaVersion: 2 })).toEqual({ ok: false, why: 'media_type' });
  });
});
