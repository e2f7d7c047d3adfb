/**
 * `regions[].storage` on Azure Blob and Google Cloud Storage: distribution's own parameter names,
 * their defaults, the credentials taken from the environment, and the rules between them.
 */
import { loadConfigText } from '../../../src/config/load';
import type { ConfigProblem } from '../../../src/config/problems';
import type { AzureStorage, GcsStorage } from '../../../src/config/types';

function config(storage: string): string {
  return `region: b
listen: { grpc: 127.0.0.1:9002, admin: 127.0.0.1:9003 }
regions:
  - { name: a, url: https://registry-a.example.com, storage: ${storage} }
  - { name: b, url: https://registry-b.example.com, storage: { type: filesystem, root: /var/lib/registry } }
`;
}

function storageOf(storage: string, env: Record<string, string> = {}) {
  const result = loadConfigText(config(storage), env);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.regions[0]?.storage;
}

function problemsOf(storage: string): readonly ConfigProblem[] {
  const result = loadConfigText(config(storage), {});
  if (result.ok) throw new Error('unexpectedly valid');
  return result.problems;
}

describe('azure', () => {
  test("distribution's parameter names, with its defaults", () => {
    expect(storageOf('{ type: azure, accountname: acct, container: registry }')).toEqual<AzureStorage>({
      type: 'azure',
      accountname: 'acct',
      container: 'registry',
      realm: 'core.windows.net',
      rootdirectory: '',
      requestTimeoutMs: 1000,
    });
    const emulator = storageOf(
      '{ type: azure, accountname: devstoreaccount1, container: c, serviceurl: "http://127.0.0.1:10000/devstoreaccount1/", rootdirectory: /reg/ }',
    ) as AzureStorage;
    expect(emulator.serviceurl).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(emulator.rootdirectory).toBe('reg');
  });

  test('the key and SAS token come from the environment, for azure regions only', () => {
    const env = { GEOSYNC_AZURE_A_ACCOUNT_KEY: 'a2V5', GEOSYNC_AZURE_B_ACCOUNT_KEY: 'other' };
    expect(storageOf('{ type: azure, accountname: acct, container: c }', env)).toMatchObject({
      accountkey: 'a2V5',
    });
    expect(
      storageOf('{ type: azure, accountname: acct, container: c }', {
        GEOSYNC_AZURE_A_SAS_TOKEN: 'sv=1&sig=x',
      }),
    ).toMatchObject({
      sastoken: 'sv=1&sig=x',
    });
    // Region b is on the filesystem: its variable changes nothing.
    const result = loadConfigText(config('{ type: azure, accountname: acct, container: c }'), env);
    expect(result.ok && result.config.regions[1]?.storage).toEqual({
      type: 'filesystem',
      root: '/var/lib/registry',
    });
  });

  test.each<[string, string, string]>([
    [
      '{ type: azure, accountname: acct, container: c, accountkey: k, sastoken: s }',
      'regions[0].storage.sastoken',
      'set one of accountkey, sastoken: each is a way to authenticate',
    ],
    [
      '{ type: azure, accountname: acct, container: c, credentials: { type: client_secret, clientid: id } }',
      'regions[0].storage.credentials',
      'client_secret needs tenantid, secret',
    ],
    ['{ type: azure, container: c }', 'regions[0].storage.accountname', 'is required'],
    [
      '{ type: azure, accountname: acct, container: c, serviceurl: blob.local }',
      'regions[0].storage.serviceurl',
      'must be an http(s) URL, got "blob.local"',
    ],
  ])('%s: %s %s', (storage, path, message) => {
    expect(problemsOf(storage)).toContainEqual({ path, message });
  });
});

describe('gcs', () => {
  test("distribution's parameter names, with its defaults", () => {
    expect(storageOf('{ type: gcs, bucket: registry }')).toEqual<GcsStorage>({
      type: 'gcs',
      bucket: 'registry',
      rootdirectory: '',
      requestTimeoutMs: 1000,
    });
    expect(
      storageOf('{ type: gcs, bucket: b, keyfile: /etc/gcs/key.json, endpoint: "http://127.0.0.1:4443" }'),
    ).toMatchObject({ keyfile: '/etc/gcs/key.json', endpoint: 'http://127.0.0.1:4443' });
  });

  test.each<[string, string, string]>([
    [
      '{ type: gcs, bucket: b, keyfile: key.json }',
      'regions[0].storage.keyfile',
      'must be an absolute path, got "key.json"',
    ],
    ['{ type: gcs, bucket: b, accountname: x }', 'regions[0].storage.accountname', 'unknown key'],
  ])('%s: %s %s', (storage, path, message) => {
    expect(problemsOf(storage)).toContainEqual(
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    );
  });
});
