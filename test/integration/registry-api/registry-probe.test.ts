/**
 * The registry-API probe (`lookup: registry`) against real registries: go-containerregistry's
 * registry (`crane registry serve`, no distribution layout anywhere), distribution 3 with htpasswd
 * (Basic) over TLS from a private CA (the `caFile` bundle) and distribution 3 with token authentication (the test token server, with a policy that
 * grants pulls only to some). The probe answers the storage layout's keys over the API: what each
 * key becomes is what is checked, with the requests each answer cost.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDigest } from '../../../src/oci/reference';
import { RegistryProbe } from '../../../src/registry-api/probe';
import { registryLookupSchema } from '../../../src/config/sections/registry-lookup';
import {
  layerLinkKey,
  manifestRevisionLinkKey,
  tagCurrentLinkKey,
  tagIndexLinkKey,
  tagsFolderKey,
  WARM_UP_KEY,
} from '../../../src/storage/keys';
import { startCraneRegistry, type CraneRegistry } from '../../support/registries/crane-registry';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { makeTls, type TlsFiles } from '../../support/http-fakes';
import { freePort } from '../../support/net/ports';
import { startRegistry, type Registry } from '../../support/registries/registry';
import { skopeoPush } from '../../support/clients/skopeo';
import { startTokenServer, type TokenFront, type TokenServer } from '../../support/registries/token-server';

jest.setTimeout(120_000);

const REPO = 'team/app';
const signal = () => AbortSignal.timeout(10_000);
const lookup = (raw: Record<string, unknown> = {}) => registryLookupSchema.parse(raw);
const digestOf = (d: string) => parseDigest(d)!;

let work: string;
let image: OciImage;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-regprobe-'));
  image = createOciImage(path.join(work, 'layout'), { tag: 'v1' });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('beside go-containerregistry (anonymous)', () => {
  let reg: CraneRegistry;
  let probe: RegistryProbe;
  beforeAll(async () => {
    reg = await startCraneRegistry();
    for (const tag of ['v1', 'v1-rc', 'v2', 'v3'])
      await skopeoPush(image.dir, 'v1', { host: reg.host, repository: REPO, tag });
    probe = new RegistryProbe('a', reg.url, lookup());
  });
  afterAll(async () => {
    await probe?.close();
    await reg?.stop();
  });

  test('a blob the registry serves is found with one HEAD', async () => {
    const layer = digestOf(image.layerDigests[0]!);
    await reg.clear();
    expect(await probe.head(layerLinkKey(REPO, layer), { signal: signal() })).toMatchObject({
      status: 'found',
    });
    expect(await reg.requests()).toEqual([`lookup HEAD /v2/${REPO}/blobs/${image.layerDigests[0]}`]);
    const missing = digestOf(`sha256:${'0'.repeat(64)}`);
    expect(await probe.head(layerLinkKey(REPO, missing), { signal: signal() })).toEqual({
      status: 'not_found',
    });
  });

  test("a tag's link reads as the digest the registry names; a manifest's bytes hash to it", async () => {
    const read = await probe.read(tagCurrentLinkKey(REPO, 'v2'), { signal: signal() });
    expect(read).toMatchObject({ status: 'found', text: image.manifestDigest });
    expect(await probe.read(tagCurrentLinkKey(REPO, 'nope'), { signal: signal() })).toEqual({
      status: 'not_found',
    });
    const digest = digestOf(image.manifestDigest);
    expect(await probe.head(manifestRevisionLinkKey(REPO, digest), { signal: signal() })).toMatchObject({
      status: 'found',
    });
    const bytes = await probe.readManifest(REPO, digest, { signal: signal() });
    expect(bytes.status).toBe('found');
    const { createHash } = await import('node:crypto');
    const text = (bytes as { text: string }).text;
    expect(`sha256:${createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex')}`).toBe(
      image.manifestDigest,
    );
  });

  test('tags are listed a page at a time, in folder order, going on after the last', async () => {
    const first = await probe.list(tagsFolderKey(REPO), { signal: signal(), max: 2 });
    expect(first).toEqual({ status: 'found', names: ['v1-rc', 'v1'], more: true });
    const all = await probe.list(tagsFolderKey(REPO), { signal: signal(), max: 100 });
    expect(all).toEqual({ status: 'found', names: ['v1-rc', 'v1', 'v2', 'v3'] });
    const rest = await probe.list(tagsFolderKey(REPO), { signal: signal(), max: 100, startAfter: 'v1/~' });
    expect(rest).toEqual({ status: 'found', names: ['v2', 'v3'] });
    expect((await reg.requests()).filter((r) => r.includes('/tags/list')).length).toBeGreaterThanOrEqual(3);
    // go-containerregistry answers 404 NAME_UNKNOWN for a repository it does not know.
    expect(await probe.list(tagsFolderKey('team/none'), { signal: signal(), max: 10 })).toEqual({
      status: 'not_found',
    });
  });

  test("the warm-up asks /v2/ and answers not there; a tag's history is no question for an API", async () => {
    await reg.clear();
    expect(await probe.head(WARM_UP_KEY, { signal: signal() })).toEqual({ status: 'not_found' });
    expect(await reg.requests()).toEqual(['lookup GET /v2/']);
    const history = await probe.head(tagIndexLinkKey(REPO, 'v1', image.manifestDigest), { signal: signal() });
    expect(history).toMatchObject({ status: 'error', kind: 'internal' });
  });

  test('a registry that is not there is unavailable; an aborted lookup is aborted', async () => {
    const down = new RegistryProbe('x', `http://127.0.0.1:${await freePort()}`, lookup());
    try {
      const layer = digestOf(image.layerDigests[0]!);
      expect(await down.head(layerLinkKey(REPO, layer), { signal: signal() })).toMatchObject({
        status: 'error',
        kind: 'unavailable',
      });
      const c = new AbortController();
      c.abort();
      expect(await probe.head(layerLinkKey(REPO, layer), { signal: c.signal })).toMatchObject({
        status: 'error',
        kind: 'aborted',
      });
    } finally {
      await down.close();
    }
  });
});

describe('beside distribution with htpasswd (Basic) over TLS from a private CA', () => {
  let reg: Registry;
  let certs: TlsFiles;
  beforeAll(async () => {
    certs = makeTls(path.join(work, 'tls'), '127.0.0.1');
    reg = await startRegistry({
      storage: { type: 'filesystem', root: path.join(work, 'basic-root') },
      auth: { username: 'robot', password: 'robot-secret' },
      tls: certs,
    });
    await skopeoPush(
      image.dir,
      'v1',
      { host: reg.host, repository: REPO },
      {
        creds: { username: 'robot', password: 'robot-secret' },
      },
    );
  });
  afterAll(() => reg?.stop());

  const robot = { credentials: 'basic', username: 'robot', password: 'robot-secret' };
  const ask = async (raw: Record<string, unknown>, key: string) => {
    const probe = new RegistryProbe('a', reg.url, lookup(raw));
    try {
      return await probe.head(key, { signal: signal() });
    } finally {
      await probe.close();
    }
  };

  test('the service credential finds it; a wrong one and none are denied, never "not there"', async () => {
    expect(reg.url).toMatch(/^https:/);
    const layer = layerLinkKey(REPO, digestOf(image.layerDigests[0]!));
    const caFile = certs.caFile;
    expect(await ask({ ...robot, caFile }, layer)).toMatchObject({ status: 'found' });
    const wrong = await ask({ ...robot, password: 'guess', caFile }, layer);
    expect(wrong).toMatchObject({ status: 'error', kind: 'denied' });
    expect(JSON.stringify(wrong)).not.toContain('guess');
    expect(await ask({ caFile }, layer)).toMatchObject({ status: 'error', kind: 'denied' });
    // distribution serves a blob only in a repository that links it (registry/storage/linkedblobstore.go).
    const other = layerLinkKey('team/other', digestOf(image.layerDigests[0]!));
    expect(await ask({ ...robot, caFile }, other)).toEqual({ status: 'not_found' });
  });

  test('without the CA\'s bundle the registry is not trusted: an error naming why, never "not there"', async () => {
    const layer = layerLinkKey(REPO, digestOf(image.layerDigests[0]!));
    const untrusted = await ask(robot, layer);
    expect(untrusted).toMatchObject({ status: 'error', kind: 'unavailable' });
    expect((untrusted as { message: string }).message).toMatch(/certificate/i);
    expect(JSON.stringify(untrusted)).not.toContain('robot-secret');
  });
});

describe('beside distribution with token authentication', () => {
  let tokens: TokenServer;
  let reg: Registry;
  let front: TokenFront;
  let url: string;
  beforeAll(async () => {
    // The policy of the registry's owner: the robot and alice may pull, nobody else.
    tokens = await startTokenServer({
      allow: (who, asked) =>
        who && ['robot', 'alice'].includes(who.user) && who.password === `${who.user}-secret`
          ? asked.actions
          : who?.user === 'pusher'
            ? asked.actions
            : [],
    });
    // The token server answers at its own front (only `/token` is asked of it there).
    front = await tokens.front({ host: '127.0.0.1', port: await freePort() });
    reg = await startRegistry({
      storage: { type: 'filesystem', root: path.join(work, 'token-root') },
      tokenAuth: { server: tokens, realm: `http://127.0.0.1:${front.port}/token` },
    });
    url = reg.url;
    await skopeoPush(
      image.dir,
      'v1',
      { host: reg.host, repository: REPO },
      {
        creds: { username: 'pusher', password: 'x' },
      },
    );
  });
  afterAll(async () => {
    await front?.close();
    await reg?.stop();
    await tokens?.stop();
  });

  test('a robot credential is traded for one pull token, reused by the next lookups', async () => {
    const probe = new RegistryProbe(
      'a',
      url,
      lookup({ credentials: 'basic', username: 'robot', password: 'robot-secret' }),
    );
    try {
      const before = tokens.askedBy.length;
      for (const d of image.layerDigests)
        expect(await probe.head(layerLinkKey(REPO, digestOf(d)), { signal: signal() })).toMatchObject({
          status: 'found',
        });
      expect(tokens.askedBy.slice(before)).toEqual(['robot']);
      expect(tokens.scopesAsked.at(-1)).toBe(`repository:${REPO}:pull`);
    } finally {
      await probe.close();
    }
  });

  test('anonymous lookups get the anonymous answer: denied, as the registry would deny the pull', async () => {
    const probe = new RegistryProbe('a', url, lookup());
    try {
      expect(
        await probe.head(layerLinkKey(REPO, digestOf(image.layerDigests[0]!)), { signal: signal() }),
      ).toMatchObject({ status: 'error', kind: 'denied' });
    } finally {
      await probe.close();
    }
  });

  test("the client's own token authorizes its lookup; another client's or none is denied", async () => {
    const probe = new RegistryProbe('a', url, lookup({ credentials: 'client' }));
    const tokenFor = async (user: string, password: string) => {
      const res = await fetch(
        `http://127.0.0.1:${front.port}/token?service=${tokens.service}&scope=repository:${REPO}:pull`,
        {
          headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
        },
      );
      return ((await res.json()) as { token: string }).token;
    };
    try {
      const key = layerLinkKey(REPO, digestOf(image.layerDigests[0]!));
      const alice = await tokenFor('alice', 'alice-secret');
      expect(await probe.head(key, { signal: signal(), authorization: `Bearer ${alice}` })).toMatchObject({
        status: 'found',
      });
      const mallory = await tokenFor('mallory', 'x');
      expect(await probe.head(key, { signal: signal(), authorization: `Bearer ${mallory}` })).toMatchObject({
        status: 'error',
        kind: 'denied',
      });
      expect(await probe.head(key, { signal: signal() })).toMatchObject({ status: 'error', kind: 'denied' });
    } finally {
      await probe.close();
    }
  });
});
