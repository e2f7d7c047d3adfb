/**
 * A burst of load must not switch rescue off. `geosync serve` for region b (a real process) with
 * siblings a and c on real Swift S3, driven over real gRPC: 300 streams at once (150 distinct tags
 * that exist nowhere, 150 of one tag that a holds), then 1,000 streams for a new tag that a holds;
 * and a 1,000-stream herd that arrives as soon as the gRPC port accepts connections, before the
 * storage warm-up has finished. Outcomes are asserted (rescued pulls, breaker states, shed
 * lookups), never durations: how long anything takes is the loaded machine's business.
 */
import { herd } from '../../support/clients/herd';
import { waitForTcp } from '../../support/process';
import { scrape, sum } from '../../support/prometheus';
import { SIBLINGS, startSwiftServe, type SwiftServe } from '../../support/storage/swift-serve';

jest.setTimeout(180_000);

let fx: SwiftServe;

beforeAll(async () => {
  // Its bursts would queue every other file's storage requests behind them on the run's Swift.
  fx = await startSwiftServe({ ownSwift: true });
});

afterAll(() => fx?.stop());

const tagPath = (tag: string) => `/v2/team/app/manifests/${tag}`;
const times = (n: number, path: (i: number) => string) => Array.from({ length: n }, (_, i) => path(i));
const ALL_RESCUED = { redirected: 1000, passed: 0, unanswered: 0 };
const CLOSED = { a: 0, c: 0 };

async function breakerStates(): Promise<Record<string, number>> {
  const text = await scrape(fx.admin);
  return Object.fromEntries(
    SIBLINGS.map((r) => [r, sum(text, 'geosync_breaker_state', { geosync_region: r })]),
  );
}

test('after a burst of 300 streams no breaker is open, and a 1,000-stream herd for a new tag is rescued', async () => {
  await fx.putTag('a', 'burst-held');
  await fx.putTag('a', 'herd-after-burst');
  await fx.start();
  const burst = await herd(fx.grpc, [
    ...times(150, (i) => tagPath(`nowhere-${i}`)),
    ...times(150, () => tagPath('burst-held')),
  ]);
  expect(burst.redirected + burst.passed).toBe(300);
  expect(await breakerStates()).toEqual(CLOSED);
  // Lookups that passed their deadline leave HEADs that Swift still works off; the herd is about
  // geosync, so it starts once the storage has caught up (well within the breakers' cool-down).
  await fx.storageCaughtUp();
  expect(
    await herd(
      fx.grpc,
      times(1000, () => tagPath('herd-after-burst')),
    ),
  ).toEqual(ALL_RESCUED);
  const metrics = await scrape(fx.admin);
  expect(await breakerStates()).toEqual(CLOSED);
  // A shed lookup is answered "pass" at once, and counted as such.
  expect(sum(metrics, 'geosync_decisions_total', { geosync_outcome: 'pass' })).toBe(
    sum(metrics, 'geosync_lookup_shed_total'),
  );
});

test('a 1,000-stream herd as soon as the gRPC port accepts connections is rescued, and opens no breaker', async () => {
  await fx.putTag('a', 'herd-at-start');
  await fx.start({ ready: false });
  await waitForTcp('127.0.0.1', Number(fx.grpc.split(':')[1]), 30_000);
  expect(
    await herd(
      fx.grpc,
      times(1000, () => tagPath('herd-at-start')),
    ),
  ).toEqual(ALL_RESCUED);
  expect(await breakerStates()).toEqual(CLOSED);
});
