/**
 * ProbeLocator reading a found manifest once (src/locate/manifest-contents.ts), on scripted
 * probes and a manual clock: what it learns answers the next lookups without a storage request;
 * lookups that arrive while it reads wait for it; anything it cannot learn leaves lookups as
 * they were; it is bounded in time and can be turned off.
 */
import { createHash } from 'node:crypto';
import type { ContentsOutcome } from '../../../src/locate/manifest-contents';
import {
  CONTENTS_DEADLINE_MS,
  CONTENTS_GRACE_MS,
  HINT_TTL_MS,
  ProbeLocator,
  type ProbeLocatorOptions,
} from '../../../src/locate/probe-locator';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import { blobDataKey, tagCurrentLinkKey } from '../../../src/storage/keys';
import { ManualClock } from '../../support/clock';
import { FakeProbe, flush, FOUND, MISSING, type Script } from './fake-probe';
import { locatorOptions } from '../../support/locator-options';

const OPTIONS: ProbeLocatorOptions = locatorOptions({ manifestContents: true });

const REPO = 'team/app';
const digestOf = (text: string) => parseDigest(`sha256:${createHash('sha256').update(text).digest('hex')}`)!;
const LAYER = parseDigest(`sha256:${'1'.repeat(64)}`)!;
const CONFIG = parseDigest(`sha256:${'c'.repeat(64)}`)!;
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { digest: `sha256:${CONFIG.hex}`, size: 1 },
  layers: [{ digest: `sha256:${LAYER.hex}`, size: 1 }],
});
const MANIFEST_DIGEST = digestOf(MANIFEST);
const TAG: PullTarget = { kind: 'manifest_by_tag', repository: REPO, tag: 'v1' };
const blob = (digest = LAYER): PullTarget => ({ kind: 'blob', repository: REPO, digest });

/** Region b holds everything (its storage answers `script`); a holds nothing. */
function setup(opts: Partial<ProbeLocatorOptions> = {}, script: Script = () => FOUND, manifest = MANIFEST) {
  const clock = new ManualClock();
  const a = new FakeProbe('a', () => MISSING);
  const b = new FakeProbe('b', script);
  b.texts.set(tagCurrentLinkKey(REPO, 'v1'), `sha256:${MANIFEST_DIGEST.hex}\n`);
  b.texts.set(blobDataKey(MANIFEST_DIGEST), manifest);
  const outcomes: ContentsOutcome[] = [];
  const locator = new ProbeLocator(
    [
      { region: 'a', probe: a },
      { region: 'b', probe: b },
    ],
    { ...OPTIONS, ...opts },
    { clock, observer: { manifestContents: (_r, o) => outcomes.push(o) } },
  );
  const locate = (t: PullTarget) => locator.locate(t, new AbortController().signal);
  return { clock, a, b, outcomes, locator, locate, requests: () => a.total + b.total };
}

test('after a manifest found by tag, its config and layers are answered without a storage request', async () => {
  const t = setup();
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  await flush();
  expect(t.outcomes).toEqual(['learnt']);
  const before = t.requests();
  expect(await t.locate(blob(LAYER))).toMatchObject({ outcome: 'found', region: 'b' });
  expect(await t.locate(blob(CONFIG))).toMatchObject({ outcome: 'found', region: 'b' });
  expect(t.requests()).toBe(before);
});

test("a tag's link is read once: the lookup reads it, and the contents read starts from its digest", async () => {
  const t = setup();
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  await flush();
  expect(t.outcomes).toEqual(['learnt']);
  expect(t.b.calls.get(tagCurrentLinkKey(REPO, 'v1'))).toBe(1);
  expect(t.b.calls.get(blobDataKey(MANIFEST_DIGEST))).toBe(1);
});

test('a tag link that names no digest is found, and teaches nothing', async () => {
  const t = setup();
  t.b.texts.set(tagCurrentLinkKey(REPO, 'v1'), 'not a digest');
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  await flush();
  expect(t.outcomes).toEqual(['no_digest']);
});

test.each<[string, (t: ReturnType<typeof setup>) => Promise<void>]>([
  [
    'found here',
    async (t) => {
      expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
    },
  ],
  [
    'found by another worker (src/workers/)',
    async (t) => {
      t.locator.adoptFound(TAG, { region: 'b', lastModified: new Date() });
      await flush();
    },
  ],
])(
  'a blob lookup that arrives while the manifest (%s) is read waits for it instead of probing',
  async (_how, learn) => {
    const t = setup({}, (key) =>
      key.endsWith('/data') && key.includes(MANIFEST_DIGEST.hex) ? 'manual' : FOUND,
    );
    await learn(t);
    const before = t.requests();
    const pending = t.locate(blob());
    await flush();
    expect(t.requests()).toBe(before);
    t.b.release(FOUND);
    expect(await pending).toMatchObject({ outcome: 'found', region: 'b' });
    expect(t.requests()).toBe(before);
  },
);

test('a negative entry is replaced by what the manifest teaches', async () => {
  const t = setup();
  // The layer was looked up before (nowhere then): a negative entry.
  t.b.script = () => MISSING;
  expect(await t.locate(blob(LAYER))).toEqual({ outcome: 'not_found' });
  t.b.script = () => FOUND;
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  await flush();
  const before = t.requests();
  expect(await t.locate(blob(LAYER))).toMatchObject({ outcome: 'found', region: 'b' });
  expect(t.requests()).toBe(before);
});

describe('between workers (src/workers/)', () => {
  test('the worker that found the manifest says so once; it says nothing for a cached answer', async () => {
    const found: [PullTarget, { region: string }][] = [];
    const clock = new ManualClock();
    const b = new FakeProbe('b', () => FOUND);
    b.texts.set(tagCurrentLinkKey(REPO, 'v1'), `sha256:${MANIFEST_DIGEST.hex}\n`);
    b.texts.set(blobDataKey(MANIFEST_DIGEST), MANIFEST);
    const locator = new ProbeLocator([{ region: 'b', probe: b }], OPTIONS, {
      clock,
      onManifestFound: (target, f) => found.push([target, f]),
    });
    await locator.locate(TAG, new AbortController().signal);
    await locator.locate(TAG, new AbortController().signal);
    await locator.locate(blob(), new AbortController().signal);
    expect(found).toEqual([
      [TAG, { region: 'b', lastModified: expect.any(Date), link: `sha256:${MANIFEST_DIGEST.hex}\n` }],
    ]);
  });

  test("with the finder's tag link, the adopting worker reads only the manifest, never the link", async () => {
    const t = setup();
    t.locator.adoptFound(TAG, {
      region: 'b',
      lastModified: new Date(),
      link: `sha256:${MANIFEST_DIGEST.hex}\n`,
    });
    await flush();
    expect(t.outcomes).toEqual(['learnt']);
    expect(t.b.calls.get(tagCurrentLinkKey(REPO, 'v1')) ?? 0).toBe(0);
    expect(t.b.calls.get(blobDataKey(MANIFEST_DIGEST))).toBe(1);
  });

  test("another worker's manifest: adopted, its contents read here, and the blobs after it need no lookup", async () => {
    const t = setup();
    t.locator.adoptFound(TAG, { region: 'b', lastModified: new Date() });
    // The adopting worker reads the manifest (a tag link and the manifest) and nothing else.
    await flush();
    expect(t.outcomes).toEqual(['learnt']);
    const before = t.requests();
    expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
    expect(await t.locate(blob(LAYER))).toMatchObject({ outcome: 'found', region: 'b' });
    expect(await t.locate(blob(CONFIG))).toMatchObject({ outcome: 'found', region: 'b' });
    expect(t.requests()).toBe(before);
  });

  test('a region this worker does not know is ignored', async () => {
    const t = setup();
    t.locator.adoptFound(TAG, { region: 'z', lastModified: new Date() });
    await flush();
    expect(t.outcomes).toEqual([]);
    expect(t.requests()).toBe(0);
  });
});

type Case = { readonly manifest?: string; readonly script?: Script };

test.each<[string, Case, ContentsOutcome]>([
  ['bytes that do not hash to the digest', { manifest: MANIFEST + ' ' }, 'digest_mismatch'],
  [
    'a manifest no longer stored',
    { script: ((k: string) => (k.endsWith('/data') ? MISSING : FOUND)) as Script },
    'not_found',
  ],
])('%s: nothing learnt, the blob is probed as before', async (_name, c, outcome) => {
  const t = setup({}, c.script ?? (() => FOUND), c.manifest ?? MANIFEST);
  await t.locate(TAG);
  await flush();
  expect(t.outcomes).toEqual([outcome]);
  const before = t.requests();
  await t.locate(blob());
  expect(t.requests()).toBeGreaterThan(before);
});

test('a read that hangs ends at its deadline, and lookups waiting on it go on to probe', async () => {
  const t = setup({}, (key) => (key.endsWith('/data') && key.includes(MANIFEST_DIGEST.hex) ? 'hang' : FOUND));
  await t.locate(TAG);
  const pending = t.locate(blob());
  await flush();
  t.clock.advance(CONTENTS_DEADLINE_MS);
  await flush();
  expect(t.outcomes).toEqual(['timeout']);
  expect(await pending).toMatchObject({ outcome: 'found', region: 'b' });
});

test('a slow read (fast HEADs, slow GETs) never makes a blob answer worse than a lookup: after a short grace the blob is probed', async () => {
  // The manifest's bytes take far longer than a lookup's deadline; the blob's own HEADs are quick.
  const t = setup({}, (key) =>
    key.endsWith('/data') && key.includes(MANIFEST_DIGEST.hex) ? 'manual' : FOUND,
  );
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  const pending = t.locate(blob());
  let answer: unknown;
  void pending.then((r) => (answer = r));
  await flush();
  expect(answer).toBeUndefined();
  t.clock.advance(CONTENTS_GRACE_MS);
  await flush();
  // Answered by its own lookup, well before the read ends (the clock has not reached a deadline).
  expect(answer).toMatchObject({ outcome: 'found', region: 'b' });
  expect(t.outcomes).toEqual([]);
});

test('a blob learnt from a manifest is a hint for HINT_TTL_MS only: then storage is asked, and a region that lacks it is no longer named', async () => {
  // b holds the manifest but not its layer (a replicator that copied the manifest first).
  const t = setup({}, (key) => (key.includes(LAYER.hex) ? MISSING : FOUND));
  expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'b' });
  await flush();
  expect(t.outcomes).toEqual(['learnt']);
  expect(await t.locate(blob(LAYER))).toMatchObject({ outcome: 'found', region: 'b' });
  t.clock.advance(HINT_TTL_MS);
  expect(await t.locate(blob(LAYER))).toEqual({ outcome: 'not_found' });
});

test("an index's children are a hint, not the truth: a child the index's region lacks is looked up, and found where it is", async () => {
  // A registry may accept an index whose children it lacks (distribution 3 with
  // validation.manifests.indexes.platforms: none): region z holds the index, only c the child.
  const child = digestOf(MANIFEST);
  const INDEX = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${child.hex}`, size: 1 },
    ],
  });
  const indexDigest = digestOf(INDEX);
  const clock = new ManualClock();
  const z = new FakeProbe('z', (key) => (key.includes(child.hex) ? MISSING : FOUND));
  z.texts.set(tagCurrentLinkKey(REPO, 'multi'), `sha256:${indexDigest.hex}\n`);
  z.texts.set(blobDataKey(indexDigest), INDEX);
  const c = new FakeProbe('c', (key) => (key.includes(child.hex) ? FOUND : MISSING));
  const outcomes: ContentsOutcome[] = [];
  const locator = new ProbeLocator(
    [
      { region: 'z', probe: z },
      { region: 'c', probe: c },
    ],
    OPTIONS,
    { clock, observer: { manifestContents: (_r, o) => outcomes.push(o) } },
  );
  const at = (t: PullTarget) => locator.locate(t, new AbortController().signal);
  expect(await at({ kind: 'manifest_by_tag', repository: REPO, tag: 'multi' })).toMatchObject({
    region: 'z',
  });
  await flush();
  expect(outcomes).toEqual(['learnt']);
  expect(await at({ kind: 'manifest_by_digest', repository: REPO, digest: child })).toMatchObject({
    outcome: 'found',
    region: 'c',
  });
});

test('turned off: no manifest is read', async () => {
  const t = setup({ manifestContents: false });
  await t.locate(TAG);
  await flush();
  expect(t.outcomes).toEqual([]);
  expect(t.b.calls.get(blobDataKey(MANIFEST_DIGEST))).toBeUndefined();
});
