/**
 * A sibling whose filesystem hangs (a FUSE mount that never answers, as a dead NFS server's
 * mount does) must cost only itself: with real FsProbes and the real locator, every lookup of
 * content the healthy sibling holds is still answered by it, however many calls hang in the
 * other. Before the bound of src/storage/fs-calls.ts, four hung calls took libuv's whole
 * threadpool and the healthy sibling's lookups timed out too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProbeLocator } from '../../../src/locate/probe-locator';
import type { PullTarget } from '../../../src/oci/pull';
import { parseDigest } from '../../../src/oci/reference';
import { blobDataKey, layerLinkKey, REGISTRY_V2_ROOT } from '../../../src/storage/keys';
import { maxRunningPerRoot, runningFsCalls } from '../../../src/storage/fs-calls';
import { FsProbe } from '../../../src/storage/fs-probe';
import { startHungMount, type HungMount } from '../../support/storage/hung-mount';
import { locatorOptions } from '../../support/locator-options';

jest.setTimeout(60_000);

let dir: string;
let hung: HungMount | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-hung-'));
  hung = await startHungMount(path.join(dir, 'hung'));
});

afterAll(async () => {
  await hung?.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

const blob = (i: number): PullTarget => ({
  kind: 'blob',
  repository: 'team/app',
  digest: parseDigest(`sha256:${i.toString(16).padStart(64, '0')}`)!,
});

/** The healthy sibling's storage, as distribution lays it out, holding blobs 0..n-1. */
function healthyRoot(n: number): string {
  const root = path.join(dir, 'healthy');
  for (let i = 0; i < n; i++) {
    const t = blob(i);
    if (t.kind !== 'blob') continue;
    for (const key of [layerLinkKey(t.repository, t.digest), blobDataKey(t.digest)]) {
      const file = path.join(root, REGISTRY_V2_ROOT, key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `sha256:${t.digest.hex}`);
    }
  }
  return root;
}

test('a hung sibling filesystem holds only its own calls: the healthy sibling answers every lookup', async () => {
  const n = 12;
  const locator = new ProbeLocator(
    [
      { region: 'hung', probe: new FsProbe('hung', hung!.root) },
      { region: 'healthy', probe: new FsProbe('healthy', healthyRoot(n)) },
    ],
    // The hung region is preferred: every lookup asks it first and waits out the hedge for it.
    locatorOptions({ lookupTimeoutMs: 1000, breaker: { failureThreshold: 1000, coolDownMs: 60_000 } }),
  );
  try {
    const answers = [];
    for (let i = 0; i < n; i++) answers.push(await locator.locate(blob(i), AbortSignal.timeout(30_000)));
    expect(answers.map((a) => (a.outcome === 'found' ? a.region : a.outcome))).toEqual(
      Array.from({ length: n }, () => 'healthy'),
    );
    // The hung region's calls are still running, and only as many as its share (this jest
    // process runs with libuv's default pool of 4: one).
    expect(runningFsCalls()).toBe(maxRunningPerRoot());
  } finally {
    await locator.close();
  }
});
