import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfigFile, loadConfigText } from '../../../src/config/load';
import type { ConfigProblem } from '../../../src/config/problems';

const fixture = (name: string) => path.join(__dirname, 'fixtures', name);

async function problems(name: string): Promise<readonly ConfigProblem[]> {
  const result = await loadConfigFile(fixture(name), {});
  if (result.ok) throw new Error(`${name} unexpectedly valid`);
  return result.problems;
}

describe('configuration: one fixture per error, exact message', () => {
  test.each<[string, string, string]>([
    ['region-unknown.yaml', 'region', '"z" is not one of regions[].name (a, b)'],
    ['region-missing.yaml', 'region', 'is required'],
    ['listen-grpc-bad.yaml', 'listen.grpc', 'must be host:port or unix:PATH, got "localhost"'],
    ['listen-admin-same.yaml', 'listen.admin', 'must differ from listen.grpc'],
    ['lookup-timeout-low.yaml', 'lookupTimeoutMs', 'must be >= 1, got 0'],
    ['lookup-timeout-type.yaml', 'lookupTimeoutMs', 'must be an integer, got "150ms"'],
    ['unknown-key.yaml', 'lookupTimout', 'unknown key (did you mean lookupTimeoutMs?)'],
    [
      'region-name-bad.yaml',
      'regions[0].name',
      `"Region_A" must be lower-case letters, digits and '-', at most 32 characters`,
    ],
    ['region-name-duplicate.yaml', 'regions[1].name', 'duplicate region name "b" (also regions[0])'],
    ['url-relative.yaml', 'regions[0].url', '"registry-a.example.com" is not an absolute URL'],
    ['url-path.yaml', 'regions[0].url', 'must be a scheme and host[:port] only, without a path'],
    ['url-duplicate.yaml', 'regions[1].url', 'duplicate url (also regions[0])'],
    ['s3-bucket-missing.yaml', 'regions[0].storage.bucket', 'is required'],
    [
      's3-secret-missing.yaml',
      'regions[0].storage.secretAccessKey',
      'accessKeyId and secretAccessKey go together (leave both out to use the AWS SDK provider chain)',
    ],
    [
      'storage-type-bad.yaml',
      'regions[1].storage.type',
      'must be one of s3, filesystem, azure, gcs, got "nfs"',
    ],
    ['fs-root-relative.yaml', 'regions[1].storage.root', 'must be an absolute path, got "var/lib/registry"'],
    ['preference-self.yaml', 'preference[0]', '"b" is this region; list sibling regions only'],
    ['preference-unknown.yaml', 'preference[0]', '"q" is not one of regions[].name'],
    ['negative-ttl-high.yaml', 'locate.cache.negativeTtlMs', 'must be <= 10000, got 60000'],
    ['probes-per-region-low.yaml', 'locate.maxConcurrentProbesPerRegion', 'must be >= 2, got 1'],
    [
      'log-level-bad.yaml',
      'telemetry.logLevel',
      'must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ['regions-empty.yaml', 'regions', 'must list at least one region'],
    [
      'notifications-secret-missing.yaml',
      'notifications.authHeader.valueFromEnv',
      'environment variable GEOSYNC_NOTIFICATIONS_SECRET is not set (the value registries send in the Authorization header)',
    ],
    [
      'notifications-path-taken.yaml',
      'notifications.path',
      `"/metrics" is one of the admin port's own paths`,
    ],
    [
      'notifications-header-bad.yaml',
      'notifications.authHeader.name',
      '"X Token" is not an HTTP header name',
    ],
    ['staleness-window-low.yaml', 'staleness.windowMs', 'must be >= 60000, got 1000'],
    [
      'push-check-basic-user-bad.yaml',
      'pushCheckBasicUsers[1]',
      'must be a user name alone: 1 to 256 visible ASCII characters, no colon (RFC 7617 user-id)',
    ],
    ['not-a-mapping.yaml', '(root)', 'must be a mapping of configuration keys'],
  ])('%s → %s: %s', async (name, key, message) => {
    expect(await problems(name)).toEqual([{ path: key, message }]);
  });

  test('YAML syntax errors name the line', async () => {
    const p = await problems('yaml-syntax.yaml');
    expect(p[0]?.path).toBe('(yaml)');
    expect(p[0]?.message).toMatch(/^line \d+: /);
  });

  test('every problem of a broken file is reported at once', async () => {
    // The schema's problems in declaration order (an object's unknown keys after its own), then
    // the rules between keys.
    expect((await problems('many-problems.yaml')).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'listen.grpc: must be host:port or unix:PATH, got "nope"',
      'lookupTimeoutMs: must be >= 1, got -1',
      `regions[0].name: "A" must be lower-case letters, digits and '-', at most 32 characters`,
      'regions[0].url: must be http or https, got "ftp"',
      'regions[0].storage.bucket: is required',
      'regions[1].storage.root: must be an absolute path, got "rel/path"',
      'regions[1].storage.extra: unknown key (known keys: type, root)',
      'bogus: unknown key (known keys: region, listen, lookupTimeoutMs, lookupTimeoutMaxMs, drainMs, regions, preference, proxyManifestHeadByDigest, pushCheckUserAgents, pushCheckBasicUsers, freshness, locate, telemetry, notifications, staleness, envoy)',
      'region: "z" is not one of regions[].name (A, b)',
    ]);
  });

  test('a missing file is a problem, not an exception', async () => {
    expect(await problems('does-not-exist.yaml')).toEqual([
      { path: '(file)', message: `cannot read ${fixture('does-not-exist.yaml')}: ENOENT` },
    ]);
  });
});

describe('configuration: valid file', () => {
  test('defaults, normalisation and preference order', async () => {
    const result = await loadConfigFile(fixture('valid.yaml'), {});
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const c = result.config;
    expect(c.region).toBe('b');
    expect(c.listen.grpc).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9002 });
    expect(c.lookupTimeoutMs).toBe(150);
    expect(c.preference).toEqual(['a']);
    expect(c.regions[0]?.storage).toEqual({
      type: 's3',
      bucket: 'registry-a',
      endpoint: 'http://127.0.0.1:8480',
      region: 'us-east-1',
      forcePathStyle: true,
      rootDirectory: '',
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      requestTimeoutMs: 1000,
    });
    expect(c.locate.cache.negativeTtlMs).toBe(250);
    expect(Object.isFrozen(c.regions[0])).toBe(true);
  });

  test('environment variables override documented keys and supply S3 credentials', () => {
    // The credentials come only from the environment: remove them from the fixture by key (a
    // text replace silently stops matching when the fixture is reformatted).
    const doc = parseDocument(readFileSync(fixture('valid.yaml'), 'utf8'));
    for (const key of ['accessKeyId', 'secretAccessKey']) {
      expect(doc.deleteIn(['regions', 0, 'storage', key])).toBe(true);
    }
    const text = doc.toString();
    expect(text).not.toMatch(/accessKeyId|secretAccessKey/);
    const result = loadConfigText(text, {
      GEOSYNC_REGION: 'a',
      GEOSYNC_LISTEN_GRPC: 'unix:/run/geosync.sock',
      GEOSYNC_LOOKUP_TIMEOUT_MS: '90',
      GEOSYNC_S3_A_ACCESS_KEY_ID: 'from-env',
      GEOSYNC_S3_A_SECRET_ACCESS_KEY: 'secret-from-env',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.region).toBe('a');
    expect(result.config.listen.grpc).toEqual({ kind: 'unix', path: '/run/geosync.sock' });
    expect(result.config.lookupTimeoutMs).toBe(90);
    expect(result.config.preference).toEqual(['b']);
    const storage = result.config.regions[0]?.storage;
    expect(storage?.type === 's3' && storage.credentials).toEqual({
      accessKeyId: 'from-env',
      secretAccessKey: 'secret-from-env',
    });
  });

  test('notifications take their secret from the variable valueFromEnv names, never from the file', () => {
    const text = `${readFileSync(fixture('valid.yaml'), 'utf8')}
notifications: { enabled: true, path: /events, authHeader: { name: X-Registry-Token, valueFromEnv: REGISTRY_HOOK } }
staleness: { windowMs: 600000, maxSamples: 500 }
`;
    const result = loadConfigText(text, { REGISTRY_HOOK: 'a-long-enough-shared-secret' });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.notifications).toEqual({
      enabled: true,
      path: '/events',
      authHeaderName: 'x-registry-token',
      authHeaderValue: 'a-long-enough-shared-secret',
    });
    expect(result.config.staleness).toEqual({ windowMs: 600_000, maxSamples: 500 });

    const short = loadConfigText(text, { REGISTRY_HOOK: 'short' });
    expect(short.ok ? [] : short.problems).toEqual([
      {
        path: 'notifications.authHeader.valueFromEnv',
        message: 'the value of REGISTRY_HOOK must be at least 16 characters',
      },
    ]);
    const inFile = loadConfigText(
      text.replace('valueFromEnv: REGISTRY_HOOK', 'value: hunter2hunter2hunter2'),
      {},
    );
    expect(inFile.ok ? [] : inFile.problems).toEqual([
      {
        path: 'notifications.authHeader.value',
        message: 'secrets are not read from the file: set the environment variable that valueFromEnv names',
      },
      {
        path: 'notifications.authHeader.valueFromEnv',
        message:
          'environment variable GEOSYNC_NOTIFICATIONS_SECRET is not set (the value registries send in the X-Registry-Token header)',
      },
    ]);
  });

  test('commands that use no secret (envoy-config) load a configuration without it', () => {
    const text = `${readFileSync(fixture('valid.yaml'), 'utf8')}\nnotifications: { enabled: true }\n`;
    expect(loadConfigText(text, {}).ok).toBe(false);
    const result = loadConfigText(text, {}, { secrets: false });
    expect(result.ok && result.config.notifications).toEqual({
      enabled: true,
      path: '/notifications',
      authHeaderName: 'authorization',
    });
  });

  test('notifications are off by default and need no secret then', async () => {
    const result = await loadConfigFile(fixture('valid.yaml'), {});
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.notifications).toEqual({
      enabled: false,
      path: '/notifications',
      authHeaderName: 'authorization',
    });
    expect(result.config.staleness).toEqual({ windowMs: 3_600_000, maxSamples: 10_000 });
  });

  test('the shipped example configuration is valid', async () => {
    const result = await loadConfigFile(
      path.join(__dirname, '../../../deploy/config/geosync.example.yaml'),
      {},
    );
    expect(result.ok).toBe(true);
  });
});

describe('configuration: how values are written', () => {
  const valid = () => readFileSync(fixture('valid.yaml'), 'utf8');
  const problemsOf = (text: string, env = {}) => {
    const result = loadConfigText(text, env);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  test('a misspelt key in a section gets a suggestion', () => {
    expect(problemsOf(`${valid()}\nlocate: { cache: { negativeTTLMs: 1 }, hedgMs: 5 }\n`)).toEqual([
      'locate.cache.negativeTTLMs: unknown key (did you mean negativeTtlMs?)',
      'locate.hedgMs: unknown key (did you mean hedgeMs?)',
    ]);
  });

  test('an empty key or an empty string is not set; integers and booleans may be quoted', () => {
    const result = loadConfigText(
      `${valid()}\ndrainMs:\nlocate: { hedgeMs: "25", probeBlobData: "false" }\ntelemetry: { serviceName: '', logLevel: }\n`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.drainMs).toBe(5000);
    expect(result.config.locate.hedgeMs).toBe(25);
    expect(result.config.locate.probeBlobData).toBe(false);
    expect(result.config.telemetry).toMatchObject({ serviceName: 'geosync', logLevel: 'info' });
  });

  test("'' is not set only where text is expected; it turns the Envoy access log off", () => {
    expect(problemsOf(`${valid()}\ndrainMs: ''\nlocate: ''\npreference: ''\n`)).toEqual([
      'drainMs: must be an integer, got ""',
      'preference: must be a list, got ""',
      'locate: must be a mapping, got ""',
    ]);
    const result = loadConfigText(`${valid()}\nenvoy: { accessLogPath: '' }\n`);
    expect(result.ok && result.config.envoy.accessLogPath).toBe('');
  });

  test('a credential of the wrong type is named by its kind, never printed', () => {
    const text = valid()
      .replace('accessKeyId: AK', 'accessKeyId: 98765')
      .replace('secretAccessKey: SK', 'secretAccessKey: 12345');
    expect(text).not.toBe(valid());
    const found = problemsOf(text);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^regions\[\d\]\.storage\.secretAccessKey: must be a string, got a number$/),
        expect.stringMatching(/^regions\[\d\]\.storage\.accessKeyId: must be a string, got a number$/),
      ]),
    );
    expect(found.join('\n')).not.toMatch(/12345|98765/);
  });

  test('a value of the wrong type is a problem, not an exception', () => {
    expect(problemsOf(`${valid()}\nenvoy: { localRegistry: { healthCheck: { path: 1.5 } } }\n`)).toEqual([
      'envoy.localRegistry.healthCheck.path: must be a string, got number 1.5',
    ]);
  });

  test('a bad key does not hide a rule broken elsewhere in its section', () => {
    expect(problemsOf(`${valid()}\nnotifications: { enabled: true, path: metrics }\nlistenn: 1\n`)).toEqual([
      'notifications.path: must be an absolute path of letters, digits and ._~/-, got "metrics"',
      'listenn: unknown key (did you mean listen?)',
      'notifications.authHeader.valueFromEnv: environment variable GEOSYNC_NOTIFICATIONS_SECRET is not set (the value registries send in the Authorization header)',
    ]);
  });

  test('the configuration is frozen all the way down, the Envoy options included', async () => {
    const result = loadConfigText(
      `${valid()}\nenvoy: { siblings: { a: { circuitBreakers: { maxRequests: 5 } } } }\n`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const breakers = result.config.envoy.siblings.a?.circuitBreakers;
    expect(breakers?.maxRequests).toBe(5);
    expect(Object.isFrozen(breakers)).toBe(true);
    expect(Object.isFrozen(result.config.locate.cache)).toBe(true);
  });
});
