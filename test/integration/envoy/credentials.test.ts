/**
 * What real Envoy tells geosync of a client's credentials, on the generated bootstrap, on the
 * newest and the oldest supported release: a bearer token whatever the case of its scheme, and of
 * Basic credentials the user-id alone, decoded by the generated Lua filter
 * (src/envoy/basic-user-filter.ts), never the password. A scripted processor stands in for geosync
 * so each message is visible; the registry is a fake that records what Envoy sent it.
 */
import { randomBytes } from 'node:crypto';
import { ATTRIBUTE, HEADER } from '../../../src/extproc/headers';
import type { EnvoyRelease } from '../../support/envoy/envoy';
import { attributesOf } from '../../support/clients/scripted-processor';
import { get, startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];
const basic = (credentials: string | Buffer, scheme = 'Basic') =>
  `${scheme} ${Buffer.from(credentials).toString('base64')}`;
/** geosync's place: every 404 passes unchanged (what is sent is under test, not the answer). */
const passAll = () => (m: { request?: string }, s: { call: { write(r: object): void } }) => {
  if (m.request === 'response_headers') s.call.write({ response_headers: {} });
};

/** The attributes of the one message Envoy sent geosync for a GET (of `path`) with these headers. */
async function attributesFor(
  s: Stack,
  headers: Record<string, string>,
  path = MANIFEST,
): Promise<Record<string, string>> {
  const before = s.processor.streams.length;
  const res = await get(`${s.url}${path}`, { headers });
  expect(res.status).toBe(404);
  const streams = s.processor.streams.slice(before);
  expect(streams).toHaveLength(1);
  return attributesOf(streams[0]!.messages[0]!);
}

describe.each(RELEASES)('Envoy %s', (release) => {
  describe('with pushCheckBasicUsers', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack({ release, script: passAll, pushCheckBasicUsers: ['ci-robot'] });
    });
    afterAll(() => s?.close());

    const userOf = async (authorization: string, extra: Record<string, string> = {}) =>
      (await attributesFor(s, { authorization, ...extra }))[ATTRIBUTE.basicUser];

    test('the user-id of Basic credentials reaches geosync, the password never', async () => {
      const password = 'correct horse: battery staple';
      const attrs = await attributesFor(s, { authorization: basic(`ci-robot:${password}`) });
      expect(attrs[ATTRIBUTE.basicUser]).toBe('ci-robot');
      expect(attrs[ATTRIBUTE.bearer]).toBe('');
      const sent = JSON.stringify(attrs);
      expect(sent).not.toContain('battery');
      expect(sent).not.toContain(Buffer.from(`ci-robot:${password}`).toString('base64'));
      // The registry still gets the client's credentials as they were (it authorizes them).
      expect(s.registry.requests.at(-1)?.headers.authorization).toBe(basic(`ci-robot:${password}`));
    });

    test('the scheme in any case, any padding, passwords with colons, every alignment of the user-id', async () => {
      expect(await userOf(basic('ci-robot:pw', 'basic'))).toBe('ci-robot');
      expect(await userOf(basic('ci-robot:pw', 'BASIC'))).toBe('ci-robot');
      expect(await userOf(basic('ci-robot:pw').replace(/=+$/, ''))).toBe('ci-robot');
      expect(await userOf(basic('u:a:b:c'))).toBe('u');
      expect(await userOf(basic('u:'))).toBe('u');
      for (const user of ['a', 'ab', 'abc', 'abcd', 'abcde', 'x'.repeat(256)]) {
        expect(await userOf(basic(`${user}:p`))).toBe(user);
      }
    });

    test('random user-ids and passwords (any bytes) decode to the user-id alone', async () => {
      const visible = [...Array(94).keys()].map((i) => String.fromCharCode(33 + i)).filter((c) => c !== ':');
      for (let i = 0; i < 40; i++) {
        const bytes = randomBytes(1 + (i % 20));
        const user = [...bytes].map((b) => visible[b % visible.length]).join('');
        const password = randomBytes(i % 17);
        const attrs = await attributesFor(s, {
          authorization: basic(Buffer.concat([Buffer.from(`${user}:`), password])),
        });
        expect(attrs[ATTRIBUTE.basicUser]).toBe(user);
      }
    });

    test('nothing for what is no Basic user-id, and a client-sent header never reaches geosync', async () => {
      for (const authorization of [
        basic('no-colon'),
        basic(':password-only'),
        basic('ctrl\u0001user:pw'),
        basic('space user:pw'),
        basic(`${'x'.repeat(257)}:pw`),
        basic(Buffer.from([0xc3, 0xa9, 0x3a, 0x70])),
        'Basic !!!not-base64',
        'Basic',
        `Digest ${Buffer.from('ci-robot:pw').toString('base64')}`,
        'Bearer eyJhbGciOiJFUzI1NiJ9.eyJhY2Nlc3MiOltdfQ.c2ln',
      ]) {
        expect(`${authorization} -> ${await userOf(authorization)}`).toBe(`${authorization} -> undefined`);
      }
      // Without credentials, or with another user's, a forged header is replaced by Envoy's own.
      expect(
        (await attributesFor(s, { [HEADER.basicUser]: 'ci-robot' }))[ATTRIBUTE.basicUser],
      ).toBeUndefined();
      expect(await userOf(basic('dev:pw'), { [HEADER.basicUser]: 'ci-robot' })).toBe('dev');
      expect(s.registry.requests.at(-1)?.headers[HEADER.basicUser]).toBe('dev');
    });

    test('a bearer token reaches geosync whatever the case of its scheme (RFC 9110 §11.1)', async () => {
      const token = 'eyJhbGciOiJFUzI1NiJ9.eyJhY2Nlc3MiOltdfQ.c2ln';
      for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
        const attrs = await attributesFor(s, { authorization: `${scheme} ${token}` });
        expect(attrs[ATTRIBUTE.bearer]).toBe(`${scheme} ${token}`);
        expect(attrs[ATTRIBUTE.basicUser]).toBeUndefined();
      }
    });
  });

  describe('without pushCheckBasicUsers (the default)', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startStack({ release, script: passAll });
    });
    afterAll(() => s?.close());

    test('no user-id is derived or asked for', async () => {
      const attrs = await attributesFor(s, {
        authorization: basic('ci-robot:pw'),
        [HEADER.basicUser]: 'forged',
      });
      expect(attrs[ATTRIBUTE.basicUser]).toBeUndefined();
      expect(s.bootstrap).not.toContain('envoy.filters.http.lua');
    });

    test("a tag list's credential reaches geosync for a tag list GET only, never for a pull", async () => {
      const authorization = basic('dev:secret');
      const of = async (path: string) =>
        (await attributesFor(s, { authorization }, path))[ATTRIBUTE.tagListAuthorization];
      expect(await of('/v2/team/app/tags/list')).toBe(authorization);
      expect(await of('/v2/team/app/tags/list?n=10&last=v1')).toBe(authorization);
      expect(await of(MANIFEST)).toBe('');
      // A pull whose query merely names a tag list is no tag list.
      expect(await of(`${MANIFEST}?x=/tags/list`)).toBe('');
    });
  });
});
