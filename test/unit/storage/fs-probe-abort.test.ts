/**
 * FsProbe answers at the caller's abort even when `stat` never returns (a hung network mount):
 * the probe contract, without which the locator's slots and breaker trials would leak, and
 * readiness (which waits for the start-up check) would hang.
 */
import { FsProbe } from '../../../src/storage/fs-probe';

jest.mock('node:fs/promises', () => ({ stat: () => new Promise(() => {}) }));

test('a stat that never returns is answered as aborted once the signal aborts', async () => {
  const probe = new FsProbe('a', '/srv/registry');
  const controller = new AbortController();
  const answer = probe.head('repositories/team/app/_manifests/tags/v1/current/link', {
    signal: controller.signal,
  });
  controller.abort();
  await expect(answer).resolves.toEqual({ status: 'error', kind: 'aborted', message: 'lookup cancelled' });
});

test('a start-up check whose stat never returns answers "cannot tell" once the signal aborts', async () => {
  const probe = new FsProbe('a', '/srv/registry');
  const controller = new AbortController();
  const answer = probe.check({ signal: controller.signal });
  controller.abort();
  await expect(answer).resolves.toBeUndefined();
});
