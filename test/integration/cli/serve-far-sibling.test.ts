/**
 * A sibling on another continent, with the defaults a new user gets. `geosync serve` for region b
 * (a real process) over real gRPC; sibling a's real Swift S3 storage is reached through a TCP
 * proxy that adds 125 ms each way (a 250 ms round trip per request, as between continents), c's
 * directly. A new tag that only a holds is rescued on its first pull; a tag nowhere passes. With
 * one fixed deadline at the minimum (`lookupTimeoutMaxMs` = `lookupTimeoutMs`, what every lookup
 * had before per-region deadlines) the same pulls pass: the far region is never used.
 * What it cannot show: a real WAN's loss and jitter (the proxy's delay is steady).
 */
import { herd } from '../../support/clients/herd';
import { startSwiftServe, type SwiftServe } from '../../support/storage/swift-serve';
import { startTcpProxy, type TcpProxy } from '../../support/net/tcp-proxy';

jest.setTimeout(180_000);

let fx: SwiftServe;
let proxy: TcpProxy;

beforeAll(async () => {
  fx = await startSwiftServe();
  const swift = new URL(fx.swift.endpoint);
  proxy = await startTcpProxy({ target: { host: swift.hostname, port: Number(swift.port) }, delayMs: 125 });
});

afterAll(async () => {
  await proxy?.close();
  await fx?.stop();
});

const tagPath = (tag: string) => `/v2/team/app/manifests/${tag}`;

test('with the defaults, each new tag only the far sibling holds is rescued on its first pull; a tag nowhere passes', async () => {
  await fx.start({ storage: { a: { endpoint: proxy.url } } });
  for (const tag of ['far-1', 'far-2', 'far-3']) {
    await fx.putTag('a', tag);
    expect(await herd(fx.grpc, [tagPath(tag)], { ownConnection: true })).toEqual({
      redirected: 1,
      passed: 0,
      unanswered: 0,
    });
  }
  expect(await herd(fx.grpc, [tagPath('far-nowhere')], { ownConnection: true })).toEqual({
    redirected: 0,
    passed: 1,
    unanswered: 0,
  });
});

test('with one fixed 150 ms deadline (the behaviour before), the same first pulls pass', async () => {
  await fx.start({ storage: { a: { endpoint: proxy.url } }, lookupTimeoutMaxMs: 150 });
  let redirected = 0;
  for (const tag of ['fixed-1', 'fixed-2', 'fixed-3']) {
    await fx.putTag('a', tag);
    redirected += (await herd(fx.grpc, [tagPath(tag)], { ownConnection: true })).redirected;
  }
  expect(redirected).toBe(0);
});
