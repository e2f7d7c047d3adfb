/**
 * `regions[].lookup` and what each kind needs: `storage` reads the region's storage, `registry`
 * asks its registry's API (`regions[].registry`), and tag freshness reads this region's own tag
 * history from its storage. The problems are reported with the rest of the file's, at the key.
 */
import { loadConfigText } from '../../../src/config/load';

type Env = Record<string, string>;

/** Region a (a sibling) as `a`, region b (this one) as `b`, in flow YAML. */
function config(a: string, b = 'storage: { type: filesystem, root: /srv/b }', extra = ''): string {
  return `region: b
regions:
  - { name: a, url: https://registry-a.example.com, ${a} }
  - { name: b, url: https://registry-b.example.com, ${b} }
${extra}`;
}

function problemsOf(text: string, env: Env = {}, secrets = true): string[] {
  const result = loadConfigText(text, env, { secrets });
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

function regionA(text: string, env: Env = {}) {
  const result = loadConfigText(text, env);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.regions[0];
}

test('lookup: storage (the default) needs storage; registry: is for lookup: registry', () => {
  expect(problemsOf(config('lookup: storage'))).toEqual([
    'regions[0].storage: is required with `lookup: storage` (or set `lookup: registry`)',
  ]);
  expect(problemsOf(config('storage: { type: filesystem, root: /srv/a }, registry: {}'))).toEqual([
    'regions[0].registry: is used only with `lookup: registry`',
  ]);
});

test('lookup: registry needs no storage; anonymous with a 2 s request timeout by default', () => {
  expect(regionA(config('lookup: registry'))).toEqual({
    name: 'a',
    url: 'https://registry-a.example.com',
    lookup: 'registry',
    registry: { credentials: 'none', requestTimeoutMs: 2000 },
  });
});

test('basic credentials are whole; the password may come from the environment', () => {
  const basic = (keys: string) => config(`lookup: registry, registry: { credentials: basic${keys} }`);
  expect(problemsOf(basic(''))).toEqual([
    'regions[0].registry.username: `credentials: basic` needs username and password (or its environment variable)',
  ]);
  expect(problemsOf(basic(', username: robot'))).toEqual([
    'regions[0].registry.password: `credentials: basic` needs password (or its environment variable)',
  ]);
  // envoy-config uses no secret: it need not be set there.
  expect(problemsOf(basic(', username: robot'), {}, false)).toEqual([]);
  expect(regionA(basic(', username: robot'), { GEOSYNC_REGISTRY_A_PASSWORD: 'from-env' })).toMatchObject({
    registry: { credentials: 'basic', username: 'robot', password: 'from-env' },
  });
  // Without a `registry:` mapping to hold it, the variable changes nothing: the region is anonymous.
  expect(regionA(config('lookup: registry'), { GEOSYNC_REGISTRY_A_PASSWORD: 'stray' })).toMatchObject({
    registry: { credentials: 'none' },
  });
  expect(problemsOf(config('lookup: registry, registry: { username: robot }'))).toEqual([
    'regions[0].registry.username: is used only with `credentials: basic`',
  ]);
});

test("a region's registry password variable changes nothing for a region that does not ask its registry", () => {
  const text = config('storage: { type: filesystem, root: /srv/a }');
  expect(regionA(text, { GEOSYNC_REGISTRY_A_PASSWORD: 'stray' })).not.toHaveProperty('registry');
});

test("tag freshness needs this region's storage, even with lookup: registry", () => {
  const freshness = 'freshness: { tagMaxStalenessMs: 1000 }\n';
  expect(problemsOf(config('lookup: registry', 'lookup: registry', freshness))).toEqual([
    "regions[1].storage: tag freshness reads this region's own tag history from its storage: give its `storage` (with `lookup: registry` too), or turn freshness off",
  ]);
  // signatureTagMaxStalenessMs is on by default: it needs the storage too.
  expect(problemsOf(config('lookup: registry', 'lookup: registry'))).toHaveLength(1);
  const off = 'freshness: { signatureTagMaxStalenessMs: 0 }\n';
  expect(problemsOf(config('lookup: registry', 'lookup: registry', off))).toEqual([]);
  expect(
    problemsOf(
      config('lookup: registry', 'lookup: registry, storage: { type: filesystem, root: /b }', freshness),
    ),
  ).toEqual([]);
});

test('a rule between keys still runs beside a broken key of the same region', () => {
  expect(problemsOf(config('lookup: storage, url2: x'))).toEqual([
    'regions[0].url2: unknown key (did you mean url?)',
    'regions[0].storage: is required with `lookup: storage` (or set `lookup: registry`)',
  ]);
});
