/**
 * A sibling looked up through its registry API when that registry wants credentials, each way
 * geosync can authorize its lookup, on real distribution registries (no storage read at all: b
 * names a with `lookup: registry`):
 * - token authentication (one token service for both regions, the test token server with a
 *   policy: alice may pull, mallory may not), lookups with the client's own bearer token
 *   (`credentials: client`), on distribution 3 and 2.8;
 * - the same with a robot account traded for a pull token (`credentials: basic`);
 * - htpasswd (Basic) on both registries, lookups with a service credential.
 * In each: what only a holds is pulled through b by a client a would serve; a client a would not
 * serve gets through b exactly what b gives it without geosync.
 */
import path from 'node:path';
import { createOciImage, type OciImage } from '../support/oci-image';
import { skopeoPull, skopeoPush } from '../support/skopeo';
import { startTokenServer, type TokenServer } from '../support/token-server';
import { decisions, expectPulledImage, TempDirs, useDeployment } from './helpers';

jest.setTimeout(300_000);

const ALICE = { username: 'alice', password: 'alice-secret' };
const MALLORY = { username: 'mallory', password: 'mallory-secret' };
const PUSHER = { username: 'pusher', password: 'pusher-secret' };
const ROBOT = { username: 'robot', password: 'robot-secret' };

/** The registries' owner: the pusher pushes, alice and the robot pull, mallory gets nothing. */
const policy = {
  allow: (who: { user: string; password: string } | undefined, asked: { actions: string[] }) => {
    const known = [ALICE, PUSHER, ROBOT, MALLORY].find((c) => c.username === who?.user);
    if (!known || known.password !== who?.password) return [];
    if (known === PUSHER) return asked.actions;
    if (known === MALLORY) return [];
    return asked.actions.filter((a) => a === 'pull');
  },
};

const layouts = new TempDirs();
let image: OciImage;
beforeAll(() => {
  image = createOciImage(path.join(layouts.make('auth-api'), 'src'), { tag: 'v1' });
});
afterAll(() => layouts.removeAll());

/** skopeo's pull through b, and what the same client gets from b's own registry, side by side. */
async function pullThroughB(
  b: { host: string; registry: { host: string } },
  repository: string,
  creds: { username: string; password: string },
  dir: string,
): Promise<{ throughB: string; bAlone: string }> {
  const attempt = (host: string, d: string) =>
    skopeoPull({ host, repository, reference: 'v1' }, d, { destTag: 'v1', creds }).then(
      () => 'pulled',
      (err: Error) =>
        /unauthorized|denied|authentication required/i.test(err.message)
          ? 'denied'
          : /manifest unknown|not found/i.test(err.message)
            ? 'not found'
            : err.message.slice(0, 200),
    );
  return { throughB: await attempt(b.host, dir), bAlone: await attempt(b.registry.host, `${dir}-alone`) };
}

describe.each([3, 2] as const)(
  'token authentication, lookups with the client’s own token (distribution %i)',
  (version) => {
    let tokens: TokenServer;
    // Before the deployment's own beforeAll, which reads it.
    beforeAll(async () => {
      tokens = await startTokenServer(policy);
    });
    const { a, b, tmp } = useDeployment(() => ({
      regions: ['a', 'b'],
      storage: 'filesystem',
      registryVersion: version,
      tokenAuth: tokens,
      lookupByApi: { a: { credentials: 'client' } },
    }));
    afterAll(() => tokens?.stop());

    test('alice pulls through b what only a holds; mallory gets what b alone gives her', async () => {
      const repository = `auth/client-${version}`;
      await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds: PUSHER });
      const tokensBefore = tokens.askedBy.length;
      const dir = tmp.make('alice');
      const alice = await pullThroughB(b, repository, ALICE, dir);
      // Through b: rescued from a with alice's own token. b alone: its 404.
      expect(alice).toEqual({ throughB: 'pulled', bAlone: 'not found' });
      await expectPulledImage(dir, 'v1', image);
      // geosync asked no token of its own: the lookup carried alice's.
      expect(tokens.askedBy.slice(tokensBefore).every((who) => who === 'alice')).toBe(true);
      const mallory = await pullThroughB(b, repository, MALLORY, tmp.make('mallory'));
      expect(mallory.throughB).toBe(mallory.bAlone);
      expect(mallory.throughB).toBe('denied');
    });
  },
);

describe('token authentication, lookups with a robot account', () => {
  let tokens: TokenServer;
  // Before the deployment's own beforeAll, which reads it.
  beforeAll(async () => {
    tokens = await startTokenServer(policy);
  });
  const { a, b, tmp } = useDeployment(() => ({
    regions: ['a', 'b'],
    storage: 'filesystem',
    tokenAuth: tokens,
    lookupByApi: { a: { credentials: 'basic', username: ROBOT.username, password: ROBOT.password } },
  }));
  afterAll(() => tokens?.stop());

  test('the robot finds it in a; the pull itself is alice’s, authorized by a as alice', async () => {
    const repository = 'auth/robot';
    await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds: PUSHER });
    const before = tokens.askedBy.length;
    const dir = tmp.make('alice');
    const alice = await pullThroughB(b, repository, ALICE, dir);
    expect(alice).toEqual({ throughB: 'pulled', bAlone: 'not found' });
    await expectPulledImage(dir, 'v1', image);
    expect(tokens.askedBy.slice(before)).toContain('robot');
    const mallory = await pullThroughB(b, repository, MALLORY, tmp.make('mallory'));
    expect(mallory.throughB).toBe(mallory.bAlone);
    expect(await decisions(b, 'proxied')).toBeGreaterThan(0);
  });
});

describe('htpasswd (Basic) on every registry, lookups with a service credential', () => {
  const { a, b, tmp } = useDeployment({
    regions: ['a', 'b'],
    storage: 'filesystem',
    auth: [ALICE, PUSHER, ROBOT],
    lookupByApi: { a: { credentials: 'basic', username: ROBOT.username, password: ROBOT.password } },
  });

  test('alice pulls through b what only a holds; a wrong password gets what b alone gives it', async () => {
    const repository = 'auth/basic';
    await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds: PUSHER });
    const dir = tmp.make('alice');
    const alice = await pullThroughB(b, repository, ALICE, dir);
    expect(alice).toEqual({ throughB: 'pulled', bAlone: 'not found' });
    await expectPulledImage(dir, 'v1', image);
    const wrong = await pullThroughB(b, repository, { ...ALICE, password: 'guess' }, tmp.make('wrong'));
    expect(wrong).toEqual({ throughB: 'denied', bAlone: 'denied' });
  });
});
