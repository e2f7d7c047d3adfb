import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import { WARM_UP_KEY } from '../../../src/storage/keys';
import { admissionFor } from '../../../src/locate/admission';
import type { LocateResult } from '../../../src/locate/locator';
import type { LocatorObserver } from '../../../src/locate/observer';
import { parseDigest } from '../../../src/oci/reference';
import type { PullTarget } from '../../../src/oci/pull';
import { ManualClock } from '../../support/clock';
import { FakeProbe, FOUND, MISSING, flush, type Script } from './fake-probe';
import { locatorOptions } from '../../support/locator-options';

const HEX = 'a'.repeat(64);
const digest = parseDigest(`sha256:${HEX}`)!;
const BLOB: PullTarget = { kind: 'blob', repository: 'team/app', digest };
const tagged = (tag: string): PullTarget => ({ kind: 'manifest_by_tag', repository: 'team/app', tag });
const TAG = tagged('v1');
const LINK = `repositories/team/app/_layers/sha256/${HEX}/link`;
const DATA = `blobs/sha256/aa/${HEX}/data`;

const OPTIONS: ProbeLocatorOptions = locatorOptions();

function setup(
  scripts: Record<string, Script>,
  opts: Partial<ProbeLocatorOptions> = {},
  health?: Set<string>,
) {
  const clock = new ManualClock();
  const probes = Object.entries(scripts).map(([region, script]) => new FakeProbe(region, script));
  const events: string[] = [];
  const observer: LocatorObserver = {
    cacheHit: (p) => events.push(p ? 'hit' : 'negative_hit'),
    cacheMiss: () => events.push('miss'),
    coalesced: () => events.push('coalesced'),
    breakerState: (r, s) => events.push(`breaker:${r}:${s}`),
    regionSkipped: (r, why) => events.push(`skipped:${r}:${why}`),
    probeFinished: (r, outcome) => events.push(`probe:${r}:${outcome}`),
    lookupShed: () => events.push('shed'),
  };
  const locator = new ProbeLocator(
    probes.map((p) => ({ region: p.region, probe: p })),
    { ...OPTIONS, ...opts },
    {
      clock,
      observer,
      ...(health ? { health: { isUp: (r: string) => !health.has(r), stop: () => {} } } : {}),
    },
  );
  const locate = (target: PullTarget = BLOB, signal = new AbortController().signal, client?: string) =>
    locator.locate(target, signal, client);
  return {
    clock,
    probes,
    events,
    locator,
    locate,
    probe: (name: string) => probes.find((p) => p.region === name)!,
  };
}

const all =
  (r: typeof FOUND): Script =>
  () =>
    r;

describe('ProbeLocator', () => {
  it('cached(): nothing before a lookup, its answer after, without a probe', async () => {
    const t = setup({ a: all(MISSING), b: all(FOUND) });
    expect(t.locator.cached(BLOB)).toBeUndefined();
    await t.locate();
    const probes = t.probe('a').total + t.probe('b').total;
    expect(t.locator.cached(BLOB)).toMatchObject({ outcome: 'found', region: 'b' });
    expect(t.probe('a').total + t.probe('b').total).toBe(probes);
    expect(t.events.filter((e) => e === 'hit')).toEqual(['hit']);
  });

  it('finds the target in the one sibling that holds it, probing link and data', async () => {
    const t = setup({ a: all(MISSING), b: all(FOUND) });
    expect(await t.locate()).toEqual({
      outcome: 'found',
      region: 'b',
      lastModified: FOUND.status === 'found' ? FOUND.lastModified : undefined,
    });
    expect([...t.probe('b').calls.keys()].sort()).toEqual([DATA, LINK].sort());
  });

  it('prefers the region listed first when two hold it', async () => {
    const t = setup({ a: all(FOUND), b: all(FOUND) });
    expect(await t.locate()).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('a link without its data is not found there', async () => {
    const t = setup({ a: (k) => (k === LINK ? FOUND : MISSING) });
    expect(await t.locate()).toEqual({ outcome: 'not_found' });
  });

  it('coalesces 1,000 concurrent lookups into one probe per key and region', async () => {
    const t = setup({ a: () => 'manual', b: () => 'manual' });
    const lookups = Array.from({ length: 1000 }, () => t.locate());
    await flush();
    t.probe('a').release(MISSING);
    t.probe('b').release(FOUND);
    const results = await Promise.all(lookups);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]).toMatchObject({ outcome: 'found', region: 'b' });
    for (const p of t.probes) expect(Object.fromEntries(p.calls)).toEqual({ [LINK]: 1, [DATA]: 1 });
    expect(t.events.filter((e) => e === 'coalesced')).toHaveLength(999);
  });

  it('a waiter that gives up does not cancel the shared lookup for the others', async () => {
    const t = setup({ a: () => 'manual' });
    const impatient = new AbortController();
    const first = t.locate(BLOB, impatient.signal);
    const second = t.locate();
    await flush();
    impatient.abort();
    expect(await first).toEqual({ outcome: 'timeout' });
    t.probe('a').release(FOUND);
    expect(await second).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('meets the deadline when a region never answers, and answers from another region at once', async () => {
    const t = setup({ a: () => 'hang', b: all(MISSING) });
    const deadline = new AbortController();
    const pending = t.locate(BLOB, deadline.signal);
    let result: LocateResult | undefined;
    void pending.then((r) => (result = r));
    await flush();
    expect(result).toBeUndefined();
    deadline.abort();
    await flush();
    expect(result).toEqual({ outcome: 'timeout' });

    const t2 = setup({ a: all(FOUND), b: () => 'hang' });
    expect(await t2.locate()).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('an answer read in the same turn as the deadline timer still counts (a busy process reads sockets late)', async () => {
    const t = setup({ a: () => 'manual' }, { probeBlobData: false });
    const pending = t.locate(TAG);
    await flush();
    t.clock.advance(OPTIONS.lookupTimeoutMs);
    t.probe('a').release(FOUND);
    expect(await pending).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('caches a digest answer for digestTtlMs and a tag answer for tagTtlMs', async () => {
    const t = setup({ a: all(FOUND) });
    await t.locate(BLOB);
    await t.locate(TAG);
    t.clock.advance(5_000);
    await t.locate(BLOB);
    await t.locate(TAG);
    expect(t.probe('a').total).toBe(2 + 1 + 1);
    expect(t.events.filter((e) => e === 'hit')).toHaveLength(1);
    t.clock.advance(600_000);
    await t.locate(BLOB);
    expect(t.probe('a').total).toBe(2 + 1 + 1 + 2);
  });

  it('caches a miss for negativeTtlMs only, then sees content that has arrived', async () => {
    const t = setup({ a: all(MISSING) });
    expect(await t.locate()).toEqual({ outcome: 'not_found' });
    t.probe('a').script = all(FOUND);
    t.clock.advance(1_999);
    expect(await t.locate()).toEqual({ outcome: 'not_found' });
    expect(t.events).toContain('negative_hit');
    t.clock.advance(1);
    expect(await t.locate()).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('never caches errors', async () => {
    const t = setup(
      { a: () => ({ status: 'error', kind: 'throttled', message: 'slow down' }) },
      {
        breaker: { failureThreshold: 100, coolDownMs: 1 },
      },
    );
    expect(await t.locate()).toEqual({ outcome: 'error', code: 'probe_throttled' });
    expect(await t.locate()).toEqual({ outcome: 'error', code: 'probe_throttled' });
    expect(t.probe('a').total).toBe(4);
  });

  it('opens a failing region’s breaker, skips it, and retries it once after the cool-down', async () => {
    const failing: Script = () => ({ status: 'error', kind: 'unavailable', message: 'ECONNREFUSED' });
    const t = setup({ a: failing, b: all(MISSING) }, { probeBlobData: false });
    await t.locate();
    await t.locate();
    expect(t.events).toContain('breaker:a:open');
    const before = t.probe('a').total;
    expect(await t.locate()).toEqual({ outcome: 'not_found' });
    expect(t.probe('a').total).toBe(before);
    expect(t.events).toContain('skipped:a:breaker_open');
    t.clock.advance(10_000);
    t.probe('a').script = all(FOUND);
    expect(await t.locate(TAG)).toMatchObject({ outcome: 'found', region: 'a' });
    expect(t.events.slice(-3)).toContain('breaker:a:closed');
  });

  it('counts silence until the deadline against the breaker', async () => {
    const t = setup({ a: () => 'hang' }, { probeBlobData: false, lookupTimeoutMs: 100 });
    for (let i = 0; i < 2; i++) {
      const r = t.locate(i === 0 ? BLOB : TAG);
      await flush();
      t.clock.advance(100);
      expect(await r).toEqual({ outcome: 'timeout' });
    }
    expect(t.events).toContain('breaker:a:open');
  });

  it('counts a 403 (S3 without s3:ListBucket answers it for a missing key) as not there, never against the breaker', async () => {
    const denied: Script = () => ({ status: 'error', kind: 'denied', message: 'HTTP 403' });
    const t = setup({ a: denied, b: all(MISSING) }, { probeBlobData: false });
    for (let i = 0; i < 5 * OPTIONS.breaker.failureThreshold; i++) {
      expect(await t.locate(tagged(`miss-${i}`))).toEqual({ outcome: 'not_found' });
    }
    expect(t.events.filter((e) => e.startsWith('breaker:'))).toEqual([]);
    expect(t.events).toContain('probe:a:denied');
    t.probe('b').script = all(FOUND);
    expect(await t.locate(tagged('held-by-b'))).toMatchObject({ outcome: 'found', region: 'b' });
  });

  it('answers not found on overflow instead of queueing, and does not cache that miss', async () => {
    const t = setup({ a: () => 'manual' }, { maxConcurrentProbesPerRegion: 2 });
    const first = t.locate(BLOB);
    await flush();
    expect(await t.locate(TAG)).toEqual({ outcome: 'not_found' });
    expect(t.events).toContain('skipped:a:overflow');
    t.probe('a').release(FOUND);
    await first;
    t.probe('a').script = all(FOUND);
    expect(await t.locate(TAG)).toMatchObject({ outcome: 'found' });
  });

  it('never chooses a region whose registry is down, even from the cache', async () => {
    const down = new Set<string>();
    const t = setup({ a: all(FOUND), b: all(FOUND) }, {}, down);
    expect(await t.locate()).toMatchObject({ region: 'a' });
    down.add('a');
    expect(await t.locate()).toMatchObject({ region: 'b' });
    expect(t.events).toContain('skipped:a:unhealthy');
  });

  it('counts a region whose registry is down as skipped only when a lookup would have asked it', async () => {
    const t = setup({ a: all(FOUND), b: all(FOUND) }, {}, new Set(['b']));
    expect(await t.locate()).toMatchObject({ region: 'a' });
    expect(await t.locate()).toMatchObject({ region: 'a' });
    expect(await t.locate(TAG)).toMatchObject({ region: 'a' });
    expect(t.events.filter((e) => !e.startsWith('probe:'))).toEqual([
      'miss',
      'skipped:b:unhealthy',
      'hit',
      'miss',
      'skipped:b:unhealthy',
    ]);
  });

  it('close() closes every probe', async () => {
    const t = setup({ a: all(FOUND), b: all(FOUND) });
    await t.locator.close();
    expect(t.probes.map((p) => p.closed)).toEqual([true, true]);
  });
});

describe('ProbeLocator.warm', () => {
  it('opens every region at start (and, once it answers, times a second request: its latency), outside breakers, then again every keepWarmIntervalMs until closed', async () => {
    const t = setup(
      { a: all(MISSING), b: () => ({ status: 'error', kind: 'unavailable', message: 'down' }) },
      {
        keepWarmIntervalMs: 1_000,
        breaker: { failureThreshold: 1, coolDownMs: 10_000 },
      },
    );
    await t.locator.warm(new AbortController().signal);
    expect(t.probe('a').calls.get(WARM_UP_KEY)).toBe(2);
    expect(t.probe('b').calls.get(WARM_UP_KEY)).toBe(1);
    // A warm-up that fails does not count against the region.
    expect(t.events.filter((e) => e.startsWith('breaker:'))).toEqual([]);
    // The next warm-up is scheduled once the previous one has answered (a few promise hops).
    const settle = () => new Promise((r) => setImmediate(r));
    t.clock.advance(1_000);
    await settle();
    t.clock.advance(1_000);
    await settle();
    expect(t.probe('a').calls.get(WARM_UP_KEY)).toBe(4);
    await t.locator.close();
    t.clock.advance(5_000);
    expect(t.probe('a').calls.get(WARM_UP_KEY)).toBe(4);
  });

  it('with keepWarmIntervalMs 0, warms once', async () => {
    const t = setup({ a: all(MISSING) }, { keepWarmIntervalMs: 0 });
    await t.locator.warm(new AbortController().signal);
    t.clock.advance(60_000);
    expect(t.probe('a').calls.get(WARM_UP_KEY)).toBe(2);
    expect(t.clock.pendingTimers).toBe(0);
  });
});

describe('ProbeLocator: start-up problems', () => {
  type Checked = FakeProbe & { check?: () => Promise<string | undefined> };

  it('checkStorage returns each sibling storage problem its probe reports', async () => {
    const t = setup({ a: all(MISSING), b: all(MISSING) }, { keepWarmIntervalMs: 0 });
    (t.probe('a') as Checked).check = async () => 'bucket "typo" does not exist';
    expect(await t.locator.checkStorage(new AbortController().signal)).toEqual([
      { region: 'a', kind: 'misconfigured', problem: 'bucket "typo" does not exist' },
    ]);
  });

  it('checkStorage answers at its signal even when a check ignores it', async () => {
    const t = setup({ a: all(MISSING) }, { keepWarmIntervalMs: 0 });
    (t.probe('a') as Checked).check = () => new Promise(() => {});
    const deadline = new AbortController();
    const checking = t.locator.checkStorage(deadline.signal);
    await flush();
    deadline.abort();
    expect(await checking).toEqual([]);
  });

  it('warm reports a storage that refuses the warm-up key, which never exists (a 403 for every miss)', async () => {
    const t = setup(
      { a: () => ({ status: 'error', kind: 'denied', message: 'HTTP 403' }), b: all(MISSING) },
      { keepWarmIntervalMs: 0 },
    );
    expect(await t.locator.warm(new AbortController().signal)).toEqual([
      {
        region: 'a',
        kind: 'misconfigured',
        problem: expect.stringContaining('refuses to say whether a key exists (HTTP 403)'),
      },
    ]);
  });

  it('warm answers at its signal when a storage never answers, naming the region', async () => {
    const t = setup({ a: all(MISSING), b: () => 'hang' }, { keepWarmIntervalMs: 0 });
    const deadline = new AbortController();
    const warming = t.locator.warm(deadline.signal);
    await flush();
    deadline.abort();
    expect(await warming).toEqual([
      { region: 'b', kind: 'unreachable', problem: 'its storage did not answer the warm-up in time' },
    ]);
  });
});

describe('ProbeLocator: what a passed deadline counts against (a busy process is no evidence)', () => {
  /** Runs `n` lookups of distinct tags to their deadline; `pass` moves the clock past it. */
  async function toDeadline(
    t: ReturnType<typeof setup>,
    n: number,
    pass: (ms: number) => void = (ms) => t.clock.advance(ms),
  ) {
    for (let i = 0; i < n; i++) {
      const r = t.locate(tagged(`t-${i}`));
      await flush();
      pass(OPTIONS.lookupTimeoutMs);
      expect(await r).toEqual({ outcome: 'timeout' });
      await flush();
    }
  }
  const breakers = (t: ReturnType<typeof setup>) => t.events.filter((e) => e.startsWith('breaker:'));

  it('every asked region silent at the same deadline points at this side: no breaker counts it', async () => {
    const t = setup({ a: () => 'hang', b: () => 'hang' }, { probeBlobData: false });
    await toDeadline(t, 3 * OPTIONS.breaker.failureThreshold);
    expect(breakers(t)).toEqual([]);
    expect(t.events).toContain('probe:a:timeout');
  });

  it('a region silent while another answered in time is slow: its breaker opens', async () => {
    const t = setup({ a: () => 'hang', b: all(MISSING) }, { probeBlobData: false });
    await toDeadline(t, OPTIONS.breaker.failureThreshold);
    expect(breakers(t)).toEqual(['breaker:a:open']);
  });

  it('the only region asked, silent, counts when the deadline timer ran on time', async () => {
    const t = setup({ a: () => 'hang' }, { probeBlobData: false });
    await toDeadline(t, OPTIONS.breaker.failureThreshold);
    expect(breakers(t)).toEqual(['breaker:a:open']);
  });

  it('...and not when the deadline timer itself ran late (the event loop was busy)', async () => {
    const t = setup({ a: () => 'hang' }, { probeBlobData: false });
    await toDeadline(t, 3 * OPTIONS.breaker.failureThreshold, (ms) => t.clock.stall(ms * 2));
    expect(breakers(t)).toEqual([]);
  });

  it('...and not while the storage warm-up has not finished', async () => {
    const t = setup({ a: () => 'hang' }, { probeBlobData: false });
    void t.locator.warm(new AbortController().signal);
    await toDeadline(t, 3 * OPTIONS.breaker.failureThreshold);
    expect(breakers(t)).toEqual([]);
  });
});

describe('ProbeLocator: load shedding', () => {
  const limits = { initial: 2, min: 1, max: 4 };

  it('over the admission limit a new lookup is not started: outcome shed at once, counted', async () => {
    const t = setup({ a: () => 'manual' }, { probeBlobData: false, admission: limits });
    const running = [t.locate(tagged('one')), t.locate(tagged('two'))];
    await flush();
    expect(await t.locate(tagged('three'))).toEqual({ outcome: 'shed' });
    expect(t.events.filter((e) => e === 'shed')).toHaveLength(1);
    expect(t.probe('a').total).toBe(2);
    // Joining a lookup that runs costs nothing: never shed.
    const joined = t.locate(tagged('one'));
    t.probe('a').release(FOUND);
    expect(await Promise.all([...running, joined])).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ outcome: 'found' })),
    );
    expect(t.events.filter((e) => e === 'shed')).toHaveLength(1);
  });

  it('a deadline that passed because of this side halves the limit; lookups decided in time raise it', async () => {
    const t = setup({ a: () => 'manual', b: () => 'manual' }, { probeBlobData: false, admission: limits });
    const late = [t.locate(tagged('one')), t.locate(tagged('two'))];
    await flush();
    t.clock.advance(OPTIONS.lookupTimeoutMs);
    expect(await Promise.all(late)).toEqual([{ outcome: 'timeout' }, { outcome: 'timeout' }]);
    // Limit 1 now: one lookup runs, the next is shed.
    const three = t.locate(tagged('three'));
    await flush();
    expect(await t.locate(tagged('four'))).toEqual({ outcome: 'shed' });
    t.probe('a').release(MISSING);
    t.probe('b').release(MISSING);
    expect(await three).toEqual({ outcome: 'not_found' });
    // Decided in time with the limit in use: limit 2, so two lookups run at once again.
    t.probe('a').script = all(MISSING);
    t.probe('b').script = all(MISSING);
    const both = [t.locate(tagged('five')), t.locate(tagged('six'))];
    expect(await Promise.all(both)).toEqual([{ outcome: 'not_found' }, { outcome: 'not_found' }]);
    expect(t.events.filter((e) => e === 'shed')).toHaveLength(1);
  });
});

describe('ProbeLocator: a flood of distinct 404s from one client', () => {
  it("cannot shed another client's rescue: the flood holds at most half the window", async () => {
    // The default window (admissionFor the default probe cap of 256): 64 lookups at first.
    const defaults = admissionFor(256);
    const t = setup(
      { a: () => 'manual' },
      { probeBlobData: false, admission: defaults, maxConcurrentProbesPerRegion: 256 },
    );
    const signal = new AbortController().signal;
    const flood = Array.from({ length: 500 }, (_, i) =>
      t.locate(tagged(`random-${i}`), signal, '203.0.113.9'),
    );
    await flush();
    const shedFlood = t.events.filter((e) => e === 'shed').length;
    // The flood got half of the 64 places; the rest of it was shed at once.
    expect(t.probe('a').total).toBe(defaults.initial / 2);
    expect(shedFlood).toBe(500 - defaults.initial / 2);
    // Real pulls from other nodes still start lookups while the flood's lookups hang.
    const rescue = t.locate(TAG, signal, '10.0.4.17');
    const another = t.locate(tagged('v2'), signal, '10.0.4.18');
    await flush();
    expect(t.events.filter((e) => e === 'shed')).toHaveLength(shedFlood);
    t.probe('a').release(FOUND);
    expect(await rescue).toMatchObject({ outcome: 'found' });
    expect(await another).toMatchObject({ outcome: 'found' });
    await Promise.all(flood);
  });

  it('without a known client the window is shared as before (first come, first served)', async () => {
    const t = setup(
      { a: () => 'manual' },
      { probeBlobData: false, admission: { initial: 8, min: 4, max: 8 } },
    );
    const signal = new AbortController().signal;
    const flood = Array.from({ length: 20 }, (_, i) => t.locate(tagged(`random-${i}`), signal));
    await flush();
    expect(t.probe('a').total).toBe(8);
    expect(await t.locate(TAG, signal)).toEqual({ outcome: 'shed' });
    t.probe('a').release(MISSING);
    await Promise.all(flood);
  });
});
