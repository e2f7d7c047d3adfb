/**
 * The ext_proc side stream on real Envoy (newest and oldest supported release), generated
 * bootstrap: every way geosync can fail lets the registry's 404 through (failure_mode_allow), a
 * geosync that comes back is reached by the next request, Envoy closes each stream after the one
 * reply it needs, and a new HTTP/2 connection carries at most `maxStreamsPerConnection` streams
 * (the bound on the resets any one connection sees; README, "Stream resets").
 */
import * as grpc from '@grpc/grpc-js';
import { ENVOY_STAT, type EnvoyRelease } from '../../support/envoy/envoy';
import { sleep } from '../../support/process';
import { startProcessor } from '../../support/clients/scripted-processor';
import { geosyncLike, get, startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(60_000);

const MANIFEST = '/v2/team/app/manifests/v1';
const RELEASES: EnvoyRelease[] = ['newest', 'oldest'];

async function expectPlain404(s: Stack): Promise<void> {
  const res = await get(`${s.url}${MANIFEST}`);
  expect(res.status).toBe(404);
  expect(res.body).toContain('MANIFEST_UNKNOWN');
}

describe.each(RELEASES)('Envoy %s', (release) => {
  test('geosync unreachable: the 404 passes, counted as a failed stream allowed through', async () => {
    const s = await startStack({ release });
    try {
      await s.processor.close();
      await expectPlain404(s);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('failure_mode_allowed'))).toBe(1);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('streams_failed'))).toBeGreaterThanOrEqual(1);
    } finally {
      await s.close();
    }
  });

  test('geosync silent: Envoy stops waiting at message_timeout and the 404 passes', async () => {
    // A shorter timeout than the default (20 s), above the longest lookup deadline (2 s): this is
    // about what happens at it, not its value.
    const s = await startStack({
      release,
      script: () => () => undefined,
      envoy: { extProc: { messageTimeoutMs: 2500 } },
    });
    try {
      await expectPlain404(s);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('message_timeouts'))).toBe(1);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('failure_mode_allowed'))).toBe(1);
    } finally {
      await s.close();
    }
  });

  test('geosync ends the stream with an error status: the 404 passes', async () => {
    const s = await startStack({
      release,
      script: () => (_m, st) => st.call.emit('error', { code: grpc.status.INTERNAL, details: 'boom' }),
    });
    try {
      await expectPlain404(s);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('failure_mode_allowed'))).toBe(1);
      expect(await s.envoy.stat(ENVOY_STAT.redirectsFollowed)).toBe(0);
    } finally {
      await s.close();
    }
  });

  test('a geosync that comes back on the same address is reached by the next request', async () => {
    const s = await startStack({ release });
    let revived: Awaited<ReturnType<typeof startProcessor>> | undefined;
    try {
      await s.processor.close();
      await expectPlain404(s);
      revived = await startProcessor(geosyncLike(s.siblingUrl), s.processor.address);
      // Envoy connects again on the next stream; its connect attempts back off while the port
      // refuses, so allow a few requests.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await get(`${s.url}${MANIFEST}`)).status;
        if (status !== 200) await sleep(100);
      }
      expect(status).toBe(200);
      expect(revived.streams.length).toBeGreaterThanOrEqual(1);
    } finally {
      await revived?.close();
      await s.close();
    }
  });

  test("Envoy closes each stream once it has geosync's one reply", async () => {
    const s = await startStack({ release });
    try {
      expect((await get(`${s.url}${MANIFEST}`)).status).toBe(200);
      const [stream] = s.processor.streams;
      // The processor never ends the stream itself here; Envoy half-closes it (and resets it).
      for (let i = 0; i < 100 && !stream!.events.some((e) => e === 'end' || e === 'cancelled'); i++) {
        await sleep(20);
      }
      expect(stream!.events[0]).toBe('msg:response_headers');
      expect(stream!.events.slice(1)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^(end|cancelled)$/)]),
      );
      expect(await s.envoy.stat(ENVOY_STAT.extProc('streams_closed'))).toBe(1);
    } finally {
      await s.close();
    }
  });

  test('each HTTP/2 connection to geosync carries at most maxStreamsPerConnection streams', async () => {
    const s = await startStack({ release, envoy: { extProc: { maxStreamsPerConnection: 3 } } });
    try {
      for (let i = 0; i < 7; i++) expect((await get(`${s.url}${MANIFEST}?i=${i}`)).status).toBe(200);
      expect(s.processor.streams).toHaveLength(7);
      expect(s.processor.connections()).toBe(3);
    } finally {
      await s.close();
    }
  });
});
