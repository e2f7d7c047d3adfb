/**
 * AzureProbe and GcsProbe over content real distribution v3 registries wrote with their own
 * `azure` driver (into Azurite, the Azure Storage emulator) and `gcs` driver (into
 * fake-gcs-server): the shared ObjectProbe contract, the start-up check that tells a missing
 * container or bucket and bad credentials from content not there yet, and the failure modes
 * (refused, silent peer, caller's abort).
 *
 * What this cannot show: Azure's and Google's own services (their RBAC and IAM answers, managed
 * and workload identity), which the emulators do not implement; the 403 cases below use a wrong
 * shared key on Azurite, and fake-gcs-server checks no credentials at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { loadConfigText } from '../../../src/config/load';
import type { AzureStorage, GcsStorage } from '../../../src/config/types';
import { AzureProbe } from '../../../src/storage/azure-probe';
import { GcsProbe } from '../../../src/storage/gcs-probe';
import type { ObjectProbe } from '../../../src/storage/probe';
import { startAzurite, type Azurite } from '../../support/storage/azurite';
import { startFakeGcs, type FakeGcs } from '../../support/storage/fake-gcs';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { startRegistry, type Registry } from '../../support/registries/registry';
import { skopeoPush } from '../../support/clients/skopeo';
import { closedPort, startBlackhole } from '../../support/net/tcp-blackhole';
import { probeContract, type ContractFixture } from './probe-contract';

jest.setTimeout(120_000);

const KEY = 'repositories/team/app/_manifests/tags/v1/current/link';
const signal = () => new AbortController().signal;

/** The storage section as an operator writes it, through the real schema. */
function storageFrom(yaml: string): AzureStorage | GcsStorage {
  const loaded = loadConfigText(`region: b
listen: { grpc: 127.0.0.1:9002, admin: 127.0.0.1:9003 }
regions:
  - { name: a, url: "http://127.0.0.1:1", storage: ${yaml} }
  - { name: b, url: "http://127.0.0.1:2", storage: { type: filesystem, root: /tmp } }
`);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config.regions[0]!.storage as AzureStorage | GcsStorage;
}

let tmp: string;
let image: OciImage;
let azurite: Azurite;
let gcs: FakeGcs;
const registries: Registry[] = [];
const probes: ObjectProbe[] = [];
const fixtures: Record<'azure' | 'gcs', ContractFixture | undefined> = { azure: undefined, gcs: undefined };

const azureStorage = (over: string = '') =>
  storageFrom(
    `{ type: azure, accountname: ${azurite.accountName}, container: registry, serviceurl: "${azurite.blobUrl}", accountkey: "${azurite.accountKey}", requestTimeoutMs: 5000${over} }`,
  ) as AzureStorage;
const gcsStorage = (over: string = '') =>
  storageFrom(
    `{ type: gcs, bucket: registry, endpoint: "${gcs.url}", requestTimeoutMs: 5000${over} }`,
  ) as GcsStorage;

function keep<P extends ObjectProbe>(probe: P): P {
  probes.push(probe);
  return probe;
}

async function pushed(
  registry: Registry,
): Promise<{ pushStartedAt: Date; pushedAt: Date; registryUrl: string }> {
  registries.push(registry);
  const pushStartedAt = new Date();
  await skopeoPush(image.dir, 'v1', { host: registry.host, repository: 'team/app' });
  return { pushStartedAt, pushedAt: new Date(), registryUrl: registry.url };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-cloud-probes-'));
  image = createOciImage(path.join(tmp, 'layout'), { tag: 'v1', layerSizes: [3000, 5000] });
  [azurite, gcs] = await Promise.all([startAzurite(), startFakeGcs()]);
  await Promise.all([azurite.createContainer('registry'), gcs.createBucket('registry')]);
  const [az, gc] = await Promise.all([
    startRegistry({ storage: { type: 'azure', azurite, container: 'registry' } }),
    startRegistry({ storage: { type: 'gcs', gcs, bucket: 'registry' } }),
  ]);
  const [azPush, gcPush] = [await pushed(az), await pushed(gc)];
  fixtures.azure = {
    probe: keep(new AzureProbe('a', azureStorage())),
    image,
    repository: 'team/app',
    ...azPush,
  };
  fixtures.gcs = { probe: keep(new GcsProbe('a', gcsStorage())), image, repository: 'team/app', ...gcPush };
});

afterAll(async () => {
  for (const p of probes) await p.close();
  for (const r of registries) await r.stop();
  await azurite?.stop();
  await gcs?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

probeContract('AzureProbe (Azurite, written by distribution v3)', () => fixtures.azure!);
probeContract('GcsProbe (fake-gcs-server, written by distribution v3)', () => fixtures.gcs!);

describe('start-up check', () => {
  test('Azure: quiet for the real container; names a missing container and a wrong key', async () => {
    expect(await fixtures.azure!.probe.check!({ signal: signal() })).toBeUndefined();
    const missing = keep(new AzureProbe('a', { ...azureStorage(), container: 'nope' }));
    expect(await missing.check({ signal: signal() })).toBe(
      `container "nope" of account "${azurite.accountName}" does not exist`,
    );
    const wrongKey = keep(
      new AzureProbe('a', { ...azureStorage(), accountkey: Buffer.from('wrong').toString('base64') }),
    );
    const problem = await wrongKey.check({ signal: signal() });
    expect(problem).toMatch(/is denied \(403 AuthorizationFailure|is denied \(403/);
    expect(problem).toContain('Storage Blob Data Reader');
    expect(problem).not.toContain(azurite.accountKey);
    // A wrong key makes every lookup a 403, never "found".
    expect(await wrongKey.head(KEY, { signal: signal() })).toMatchObject({ status: 'error', kind: 'denied' });
  });

  test('GCS: quiet for the real bucket; names a missing bucket', async () => {
    expect(await fixtures.gcs!.probe.check!({ signal: signal() })).toBeUndefined();
    const missing = keep(new GcsProbe('a', { ...gcsStorage(), bucket: 'nope' }));
    expect(await missing.check({ signal: signal() })).toBe('bucket "nope" does not exist');
  });

  test('a SAS token with read permission is enough for lookups (no listing)', async () => {
    // A service SAS on the container with read only (no list): what an operator can hand out.
    const sas = generateBlobSASQueryParameters(
      {
        containerName: 'registry',
        permissions: ContainerSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 3_600_000),
      },
      new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    ).toString();
    const probe = keep(new AzureProbe('a', { ...azureStorage(), accountkey: undefined, sastoken: sas }));
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({ status: 'found' });
    expect(
      await probe.head('repositories/team/app/_manifests/tags/none/current/link', { signal: signal() }),
    ).toEqual({
      status: 'not_found',
    });
    expect(await probe.check({ signal: signal() })).toBeUndefined();
  });
});

describe.each<['azure' | 'gcs']>([['azure'], ['gcs']])('%s failure modes', (kind) => {
  const at = (url: string, timeoutMs: number): ObjectProbe =>
    kind === 'azure'
      ? keep(
          new AzureProbe('x', {
            ...azureStorage(),
            serviceurl: `${url}/devstoreaccount1`,
            requestTimeoutMs: timeoutMs,
          }),
        )
      : keep(new GcsProbe('x', { ...gcsStorage(), endpoint: url, requestTimeoutMs: timeoutMs }));

  test('a closed port is unavailable, not waited for until the timeout', async () => {
    const probe = at(`http://127.0.0.1:${await closedPort()}`, 60_000);
    expect(await probe.head(KEY, { signal: signal() })).toMatchObject({
      status: 'error',
      kind: 'unavailable',
    });
  });

  test('a peer that never answers times out at requestTimeoutMs', async () => {
    const hole = await startBlackhole();
    try {
      const probe = at(hole.url, 200);
      expect(await probe.head(KEY, { signal: signal() })).toMatchObject({ status: 'error', kind: 'timeout' });
    } finally {
      await hole.close();
    }
  });

  test("the caller's signal ends a probe with aborted, long before its own timeout", async () => {
    const hole = await startBlackhole();
    try {
      const probe = at(hole.url, 60_000);
      const controller = new AbortController();
      const answer = probe.head(KEY, { signal: controller.signal });
      for (const until = Date.now() + 30_000; hole.connections === 0 && Date.now() < until;)
        await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort();
      expect(await answer).toMatchObject({ status: 'error', kind: 'aborted' });
    } finally {
      await hole.close();
    }
  });
});
