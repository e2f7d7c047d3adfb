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
 * serve gets through b exactly what b gives it without geosync (denied).
 */
import path from 'node:path';
import { createOciImage, type OciImage } from '../support/oci/oci-image';
import { skopeoPull, skopeoPush } from '../support/clients/skopeo';
import { startTokenServer, type TokenServer } from '../support/registries/token-server';
import { expectPulledImage } from '../support/oci/layouts';
import { decisions } from '../support/stacks/region-checks';
import { TempDirs, useDeployment } from '../support/stacks/use-deployment';

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

const robotLookup = { credentials: 'basic', username: ROBOT.username, password: ROBOT.password };

/** One way a's registry wants credentials, and the credential geosync's lookups of a carry. */
interface AuthCase {
  readonly title: string;
  readonly version: 2 | 3;
  /** One token service for both regions (the test token server), or htpasswd on each registry. */
  readonly auth: 'token' | 'htpasswd';
  /** b's `registry:` section for a. */
  readonly lookup: Readonly<Record<string, unknown>>;
  /** Whose tokens the token service hands out while alice pulls: hers alone, or the robot's too. */
  readonly tokensFor?: 'alice only' | 'the robot too';
}

const CASES: readonly AuthCase[] = [
  ...([3, 2] as const).map((version) => ({
    title: `token authentication, lookups with the client’s own token (distribution ${version})`,
    version,
    auth: 'token' as const,
    lookup: { credentials: 'client' },
    tokensFor: 'alice only' as const,
  })),
  {
    title: 'token authentication, lookups with a robot account',
    version: 3,
    auth: 'token',
    lookup: robotLookup,
    tokensFor: 'the robot too',
  },
  {
    title: 'htpasswd (Basic) on every registry, lookups with a service credential',
    version: 3,
    auth: 'htpasswd',
    lookup: robotLookup,
  },
];

describe.each(CASES)('$title', (c) => {
  let tokens: TokenServer | undefined;
  // Before the deployment's own beforeAll, which reads it.
  beforeAll(async () => {
    if (c.auth === 'token') tokens = await startTokenServer(policy);
  });
  const { a, b, tmp } = useDeployment(() => ({
    regions: ['a', 'b'],
    storage: 'filesystem',
    registryVersion: c.version,
    ...(c.auth === 'token' ? { tokenAuth: tokens } : { auth: [ALICE, PUSHER, ROBOT] }),
    lookupByApi: { a: c.lookup },
  }));
  afterAll(() => tokens?.stop());

  test('alice pulls through b what only a holds; mallory gets what b alone gives her', async () => {
    const repository = `auth/${c.auth}-${c.version}-${String(c.lookup.credentials)}`;
    await skopeoPush(image.dir, 'v1', { host: a.host, repository }, { creds: PUSHER });
    const tokensBefore = tokens?.askedBy.length ?? 0;
    const proxiedBefore = await decisions(b, 'proxied');
    const dir = tmp.make('alice');
    const alice = await pullThroughB(b, repository, ALICE, dir);
    // Through b: rescued from a, the lookup authorized as the case says. b alone: its 404.
    expect(alice).toEqual({ throughB: 'pulled', bAlone: 'not found' });
    await expectPulledImage(dir, 'v1', image);
    expect(await decisions(b, 'proxied')).toBeGreaterThan(proxiedBefore);
    const asked = tokens?.askedBy.slice(tokensBefore) ?? [];
    // geosync asked no token of its own: the lookup carried alice's.
    if (c.tokensFor === 'alice only') expect(asked.every((who) => who === 'alice')).toBe(true);
    if (c.tokensFor === 'the robot too') expect(asked).toContain('robot');
    // mallory: no pull grant from the token service; no htpasswd entry at all.
    const mallory = await pullThroughB(b, repository, MALLORY, tmp.make('mallory'));
    expect(mallory).toEqual({ throughB: 'denied', bAlone: 'denied' });
  });
});
