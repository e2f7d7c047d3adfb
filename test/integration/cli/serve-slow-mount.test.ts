/**
 * A burst must never switch rescue off. `geosync serve` for region b (a real process, its
 * defaults) over real gRPC; sibling a keeps its registry's storage on a filesystem that answers
 * every call 5 ms late (a FUSE passthrough, test/support/storage/slow-fs.py, as a slow network mount).
 * 100 concurrent pulls of 100 distinct new tags that only a holds wait in geosync's own queue (a
 * root's share of libuv's threadpool) longer than the shortest lookup deadline: every one is
 * rescued, a's breaker stays closed, and a pull right after is rescued too. Before, the queue's
 * wait counted against the holder: 13-23 of 100 were rescued and a's breaker opened for 10 s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REGISTRY_V2_ROOT, tagCurrentLinkKey } from '../../../src/storage/keys';
import { startServe, waitForStatus, type ServeProcess } from '../../support/clients/geosync-cli';
import { herd } from '../../support/clients/herd';
import { freePorts } from '../../support/net/ports';
import { scrape, sum } from '../../support/prometheus';
import { startSlowMount, type SlowMount } from '../../support/storage/slow-mount';

jest.setTimeout(180_000);

const DELAY_MS = 5;
let tmp: string;
let mount: SlowMount | undefined;
let serve: ServeProcess | undefined;
let grpc: string;
let admin: string;

function putTag(tag: string): void {
  const file = path.join(tmp, 'a', REGISTRY_V2_ROOT, tagCurrentLinkKey('team/app', tag));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `sha256:${'c'.repeat(64)}`);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-slow-mount-'));
  fs.mkdirSync(path.join(tmp, 'a', REGISTRY_V2_ROOT), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'b'));
  for (let i = 0; i < 100; i++) putTag(`burst-${i}`);
  putTag('after-burst');
  mount = await startSlowMount(path.join(tmp, 'a'), path.join(tmp, 'a-slow'), DELAY_MS);
  const [grpcPort, adminPort] = (await freePorts(2)) as [number, number];
  grpc = `127.0.0.1:${grpcPort}`;
  admin = `http://127.0.0.1:${adminPort}`;
  const config = path.join(tmp, 'geosync-b.yaml');
  fs.writeFileSync(
    config,
    `region: b
listen: { grpc: "${grpc}", admin: "127.0.0.1:${adminPort}" }
drainMs: 0
telemetry: { logLevel: warn }
regions:
  - { name: a, url: "http://registry-a.invalid:5000", storage: { type: filesystem, root: "${mount.root}" } }
  - { name: b, url: "http://registry-b.invalid:5000", storage: { type: filesystem, root: "${path.join(tmp, 'b')}" } }
`,
  );
  serve = startServe(config);
  await waitForStatus(`${admin}/readyz`, 200, 60_000);
});

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  await mount?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const tagPath = (tag: string) => `/v2/team/app/manifests/${tag}`;

test('100 distinct new tags at once on 5 ms storage: 100 rescued, the breaker stays closed, and the next pull is rescued', async () => {
  const burst = await herd(
    grpc,
    Array.from({ length: 100 }, (_, i) => tagPath(`burst-${i}`)),
  );
  expect(burst).toEqual({ redirected: 100, passed: 0, unanswered: 0 });
  const metrics = await scrape(admin);
  expect(sum(metrics, 'geosync_breaker_state', { geosync_region: 'a' })).toBe(0);
  expect(sum(metrics, 'geosync_lookup_shed_total')).toBe(0);
  expect(await herd(grpc, [tagPath('after-burst')])).toEqual({ redirected: 1, passed: 0, unanswered: 0 });
});
