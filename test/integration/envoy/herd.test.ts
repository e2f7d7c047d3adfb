/**
 * A herd on real Envoy (newest release), generated bootstrap with its defaults: every node of a
 * deploy pulls one new image at once, so every request is a local 404 and one ext_proc stream.
 * Pinned here, not as speeds but as outcomes:
 * - a burst larger than Envoy's default circuit breakers (1,024 pending requests on the registry
 *   cluster, 1,024 streams on the ext_proc cluster) is queued and answered, never failed with a
 *   503 or a passed 404 (issue: a 5,000-client herd got 9,498 503s and 2,096 passed 404s);
 * - replies that wait behind each other in a busy geosync are still used: Envoy's message_timeout
 *   bounds a hung geosync, not a queue of a few hundred milliseconds.
 * The fake registry delays its 404s so that the burst is really in flight at once.
 */
import http from 'node:http';
import { ENVOY_STAT } from '../../support/envoy/envoy';
import { notFound, type Handler } from '../../support/http-fakes';
import { attributesOf, setHeadersReply, type Script } from '../../support/clients/scripted-processor';
import { startStack, type Stack } from '../../support/stacks/envoy-stack';

jest.setTimeout(120_000);

/** Above Envoy's default 1,024 active plus 1,024 pending requests. */
const BURST = 2_100;

const slow404 =
  (delayMs: number): Handler =>
  (req, res) =>
    setTimeout(() => notFound(req, res), delayMs);

/** geosync's reply (a 307 to the sibling), each after `delayMs` from its message. */
const redirectAfter =
  (delayMs: number) =>
  (siblingUrl: string): Script =>
  (m, s) => {
    if (m.request !== 'response_headers') return;
    const reply = setHeadersReply({
      ':status': '307',
      location: `${siblingUrl}${attributesOf(m)['request.path'] ?? '/'}`,
      'x-geosync-redirect': '1',
    });
    setTimeout(() => {
      if (!s.call.cancelled) s.call.write(reply);
    }, delayMs);
  };

/**
 * Replies strictly one after another, each `eachMs` after the previous (a saturated event loop
 * answering a queue): the n-th stream of a burst waits n × eachMs.
 */
const queuedReplies =
  (eachMs: number) =>
  (siblingUrl: string): Script => {
    let free = 0;
    return (m, s) => {
      const at = Math.max(Date.now(), free) + eachMs;
      free = at;
      setTimeout(() => redirectAfter(0)(siblingUrl)(m, s), at - Date.now());
    };
  };

/** `n` GETs at once, each on its own connection, as n nodes would send them; their statuses. */
async function burst(url: string, n: number): Promise<Map<number, number>> {
  const statuses = await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<number>((resolve) => {
          const req = http.get(`${url}/v2/team/app/manifests/v1?node=${i}`, { agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          // A hang guard, not a speed target: a request Envoy never answers counts as status 0.
          req.setTimeout(60_000, () => req.destroy());
          req.on('error', () => resolve(0));
        }),
    ),
  );
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return counts;
}

async function withStack(opts: Parameters<typeof startStack>[0], run: (s: Stack) => Promise<void>) {
  const s = await startStack(opts);
  try {
    await run(s);
  } catch (err) {
    // What Envoy counted, so that a failure says which limit or timeout answered.
    const stats = [...(await s.envoy.stats())].filter(
      ([k, v]) => v > 0 && /overflow|fail|timeout|_5xx|streams_/.test(k),
    );
    console.log(stats.map(([k, v]) => `${k}=${v}`).join('\n'));
    throw err;
  } finally {
    await s.close();
  }
}

/**
 * For the breaker tests: the scripted processor shares this test's event loop with the burst's
 * 2,100 client sockets and the fake registry, so on a loaded machine its replies can come late;
 * a long message timeout keeps these tests about the breakers (the timeout has its own test).
 */
const PATIENT = { extProc: { messageTimeoutMs: 20_000 } };

test(`a burst of ${BURST} local 404s, more than Envoy's default breakers hold, is queued and rescued`, async () => {
  const opts = {
    release: 'newest',
    registry: slow404(300),
    script: redirectAfter(0),
    envoy: PATIENT,
  } as const;
  await withStack(opts, async (s) => {
    expect(await burst(s.url, BURST)).toEqual(new Map([[200, BURST]]));
    expect(await s.envoy.stat('cluster.local_registry.upstream_rq_pending_overflow')).toBe(0);
    expect(await s.envoy.stat(ENVOY_STAT.extProc('failure_mode_allowed'))).toBe(0);
  });
});

test(`${BURST} ext_proc streams in flight at once (registry cluster raised) are all answered`, async () => {
  // The operator raised the registry cluster's connections: every request of the burst is then
  // an ext_proc stream at the same time, past the 1,024 streams of Envoy's default breaker.
  await withStack(
    {
      release: 'newest',
      registry: slow404(0),
      script: redirectAfter(1000),
      envoy: { ...PATIENT, localRegistry: { circuitBreakers: { maxConnections: 4096 } } },
    },
    async (s) => {
      expect(await burst(s.url, BURST)).toEqual(new Map([[200, BURST]]));
      expect(await s.envoy.stat('cluster.geosync_ext_proc.upstream_rq_pending_overflow')).toBe(0);
      expect(await s.envoy.stat(ENVOY_STAT.extProc('streams_failed'))).toBe(0);
    },
  );
});

test('replies queued behind slow ones in a busy geosync still rescue their pulls', async () => {
  // Five streams, answered one after another 80 ms apart: the last waits about 400 ms, twice
  // Envoy's own 200 ms default and geosync's former lookupTimeoutMs + 50 ms, well inside 2 s.
  await withStack({ release: 'newest', script: queuedReplies(80) }, async (s) => {
    expect(await burst(s.url, 5)).toEqual(new Map([[200, 5]]));
    expect(await s.envoy.stat(ENVOY_STAT.extProc('message_timeouts'))).toBe(0);
  });
});
