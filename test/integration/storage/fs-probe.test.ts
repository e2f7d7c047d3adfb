/** FsProbe over a layout written by a real distribution registry on the filesystem driver. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsProbe } from '../../../src/storage/fs-probe';
import { createOciImage } from '../../support/oci/oci-image';
import { startRegistry, type Registry } from '../../support/registries/registry';
import { skopeoPush } from '../../support/clients/skopeo';
import { probeContract, type ContractFixture } from './probe-contract';

jest.setTimeout(60_000);

let tmp: string;
let registry: Registry | undefined;
let fixture: ContractFixture;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-fs-probe-'));
  const root = path.join(tmp, 'storage');
  registry = await startRegistry({ storage: { type: 'filesystem', root } });
  const image = createOciImage(path.join(tmp, 'layout'), { tag: 'v1', layerSizes: [3000, 5000] });
  const pushStartedAt = new Date();
  await skopeoPush(image.dir, 'v1', { host: registry.host, repository: 'team/app' });
  fixture = {
    probe: new FsProbe('a', root),
    image,
    repository: 'team/app',
    pushStartedAt,
    pushedAt: new Date(),
    registryUrl: registry.url,
  };
});

afterAll(async () => {
  await registry?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

probeContract('FsProbe', () => fixture);

describe('FsProbe specifics', () => {
  it('refuses a key that resolves outside the storage root', async () => {
    const r = await fixture.probe.head('../../../../etc/passwd', { signal: new AbortController().signal });
    expect(r).toMatchObject({ status: 'error', kind: 'denied' });
  });

  it('answers not_found for a key under a file and for a directory, errors for what it cannot read', async () => {
    const signal = new AbortController().signal;
    // A blob's data file taken for a directory (ENOTDIR), and a repository's folder (not a file):
    // neither is content. A loop of symlinks (ELOOP) is an error, not a miss.
    const blob = `blobs/sha256/${fixture.image.configDigest.slice(7, 9)}/${fixture.image.configDigest.slice(7)}`;
    expect(await fixture.probe.head(`${blob}/data/more`, { signal })).toEqual({ status: 'not_found' });
    expect(await fixture.probe.head('repositories/team/app', { signal })).toEqual({ status: 'not_found' });
    const root = path.join(tmp, 'loop');
    fs.mkdirSync(path.join(root, 'docker/registry/v2'), { recursive: true });
    fs.symlinkSync('x', path.join(root, 'docker/registry/v2/x'));
    const looped = await new FsProbe('l', root).head('x', { signal });
    expect(looped).toMatchObject({ status: 'error', kind: 'unavailable' });
  });
});
