/**
 * Each region's deadline follows its own latency (src/locate/latency.ts), runs only while its
 * request is out of this process (src/locate/region.ts), and a region that missed it is still
 * heard for the cache (src/locate/lookup.ts). Manual clock: every time below is the clock's.
 */
import { FsCalls } from '../../../src/storage/fs-calls';
import { RegionLatency } from '../../../src/locate/latency';
import { ProbeLocator, type ProbeLocatorOptions } from '../../../src/locate/probe-locator';
import type { LocateResult } from '../../../src/locate/locator';
import type { PullTarget } from '../../../src/oci/pull';
import type {
  ListResult,
  ObjectProbe,
  ProbeOptions,
  ProbeResult,
  ReadOptions,
  ReadResult,
} from '../../../src/storage/probe';
import { ManualClock } from '../../support/clock';
import { locatorOptions } from '../../support/locator-options';
import { FOUND, MISSING, flush } from './fake-probe';

const tagged = (tag: string): PullTarget => ({ kind: 'manifest_by_tag', repository: 'team/app', tag });
const ABORTED: ProbeResult = { status: 'error', kind: 'aborted', message: 'aborted' };

/** The defaults a new user gets: 150 ms at least, 2 s at most. */
const DEFAULTS: Partial<ProbeLocatorOptions> = { lookupTimeoutMs: 150, lookupTimeoutMaxMs: 2_000 };
/**
 * A lookup window wide enough for a burst of 100 at one instant: load shedding is its own
 * mechanism (src/locate/admission.ts, tested there and in serve-burst), not what the burst tests
 * below are about. Behind Envoy a burst spreads over its worker connections and geosync's workers.
 */
const WIDE = { admission: { initial: 256, min: 4, max: 256 } } as const;

/**
 * Storage that answers each request `delayMs` after it leaves; with `calls`, requests first wait
 * for a slot of a filesystem root's queue (the real FsCalls), as FsProbe's do.
 */
class TimedProbe implements ObjectProbe {
  readonly keysInTurn: boolean;
  readonly queuesLocally: boolean;
  requests = 0;

  constructor(
    readonly region: string,
    private readonly clock: ManualClock,
    public delayMs: number | ((key: string) => number),
    public holds: (key: string) => boolean,
    private readonly calls?: FsCalls,
  ) {
    this.keysInTurn = calls !== undefined;
    this.queuesLocally = calls !== undefined;
  }

  head(key: string, opts: ProbeOptions): Promise<ProbeResult> {
    const io = (): Promise<ProbeResult> => {
      this.requests += 1;
      return new Promise<ProbeResult>((resolve) => {
        const delay = typeof this.delayMs === 'number' ? this.delayMs : this.delayMs(key);
        const cancel = this.clock.setTimer(() => resolve(this.holds(key) ? FOUND : MISSING), delay);
        opts.signal.addEventListener(
          'abort',
          () => {
            cancel();
            resolve(ABORTED);
          },
          { once: true },
        );
      });
    };
    if (!this.calls) return io();
    return this.calls.run(io, opts.signal, () => ABORTED, opts.onDispatch);
  }

  async read(key: string, opts: ReadOptions): Promise<ReadResult> {
    const r = await this.head(key, opts);
    return r.status === 'found' ? { ...r, text: '' } : r;
  }

  async list(): Promise<ListResult> {
    return { status: 'found', names: [] };
  }

  async close(): Promise<void> {}
}

function setup(probes: TimedProbe[], clock: ManualClock, opts: Partial<ProbeLocatorOptions>) {
  const events: string[] = [];
  const locator = new ProbeLocator(
    probes.map((p) => ({ region: p.region, probe: p })),
    locatorOptions({ probeBlobData: false, maxConcurrentProbesPerRegion: 256, ...opts }),
    {
      clock,
      observer: {
        breakerState: (r, s) => events.push(`breaker:${r}:${s}`),
        probeFinished: (r, outcome) => events.push(`probe:${r}:${outcome}`),
        lookupShed: () => events.push('shed'),
      },
    },
  );
  return { locator, events };
}

/** Runs the manual clock in `step` ms steps until every promise has settled (or `maxMs`). */
async function settle<T>(clock: ManualClock, pending: Promise<T>[], step = 5, maxMs = 10_000): Promise<T[]> {
  const done = pending.map(() => false);
  pending.forEach((p, i) => void p.then(() => (done[i] = true)));
  for (let t = 0; t <= maxMs && done.some((d) => !d); t += step) {
    await flush();
    if (done.every(Boolean)) break;
    clock.advance(step);
  }
  return Promise.all(pending);
}

/** When the promise settled, on the manual clock. */
async function timed(clock: ManualClock, run: () => Promise<LocateResult>) {
  const started = clock.now();
  let at = 0;
  const p = run().then((r) => {
    at = clock.now() - started;
    return r;
  });
  const [result] = await settle(clock, [p], 1);
  return { result: result as LocateResult, ms: at };
}

describe('RegionLatency (RFC 6298 estimator)', () => {
  const bounds = { minMs: 150, maxMs: 2_000 };
  it('answers the minimum before any sample, 3R after the first, and converges on a steady latency', () => {
    const l = new RegionLatency(bounds);
    expect(l.deadlineMs()).toBe(150);
    l.sample(250);
    expect(l.deadlineMs()).toBe(750);
    for (let i = 0; i < 50; i++) l.sample(250);
    expect(l.deadlineMs()).toBeGreaterThanOrEqual(250);
    expect(l.deadlineMs()).toBeLessThan(260);
  });
  it('stays within its bounds', () => {
    const near = new RegionLatency(bounds);
    near.sample(2);
    expect(near.deadlineMs()).toBe(150);
    const far = new RegionLatency(bounds);
    far.sample(5_000);
    expect(far.deadlineMs()).toBe(2_000);
  });
  it('widens with jitter', () => {
    const l = new RegionLatency(bounds);
    for (let i = 0; i < 50; i++) l.sample(i % 2 === 0 ? 200 : 300);
    expect(l.deadlineMs()).toBeGreaterThan(400);
  });
});

describe('a sibling 250 ms away, with the default deadlines', () => {
  it('is rescued on the first lookup of a new tag once the warm-up has timed it', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, (k) => k.includes('/v1/'));
    const { locator } = setup([far], clock, DEFAULTS);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    const { result } = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(result).toMatchObject({ outcome: 'found', region: 'far' });
  });

  it('with one fixed deadline (the old behaviour: the maximum at the minimum) it never is', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, (k) => k.includes('/v1/'));
    const { locator } = setup([far], clock, { lookupTimeoutMs: 150, lookupTimeoutMaxMs: 150 });
    await settle(clock, [locator.warm(new AbortController().signal)]);
    for (let i = 0; i < 3; i++) {
      const { result } = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
      // A timeout, then "nowhere" once its breaker opened on those timeouts.
      expect(result.outcome).not.toBe('found');
    }
  });

  it('without a warm-up, the first lookup waits for its answer: a region not known to be silent is not cut at the minimum', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, (k) => k.includes('/v1/'));
    const { locator, events } = setup([far], clock, DEFAULTS);
    const first = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(first.result).toMatchObject({ outcome: 'found', region: 'far' });
    expect(first.ms).toBeGreaterThanOrEqual(250);
    expect(first.ms).toBeLessThan(300);
    const requests = far.requests;
    const second = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(second.result).toMatchObject({ outcome: 'found', region: 'far' });
    expect(far.requests).toBe(requests);
    // A far region that answers late is no failure: its breaker never moved.
    expect(events.filter((e) => e.startsWith('breaker:'))).toEqual([]);
  });

  it('a genuine miss costs about its round trip, not the maximum', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, () => false);
    const { locator } = setup([far], clock, DEFAULTS);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    const { result, ms } = await timed(clock, () =>
      locator.locate(tagged('nowhere'), new AbortController().signal),
    );
    expect(result).toEqual({ outcome: 'not_found' });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(300);
  });

  it('a sibling that falls silent: the first lookup waits to the hard limit, the next ones only its deadline', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, () => true);
    const { locator, events } = setup([far], clock, DEFAULTS);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    far.delayMs = 60_000;
    // Answering until now: the region is waited for (a herd loading its path looks the same).
    const first = await timed(clock, () => locator.locate(tagged('v2'), new AbortController().signal));
    expect(first.result).toEqual({ outcome: 'timeout' });
    expect(first.ms).toBeGreaterThanOrEqual(2_000);
    expect(first.ms).toBeLessThan(2_020);
    await settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), 10))]);
    expect(events).toContain('probe:far:timeout');
    // Silent since: its deadline (3R after the one timed warm-up request) cuts the next lookup.
    const deadline = 750;
    const second = await timed(clock, () => locator.locate(tagged('v3'), new AbortController().signal));
    expect(second.result).toEqual({ outcome: 'timeout' });
    expect(second.ms).toBeGreaterThanOrEqual(deadline);
    expect(second.ms).toBeLessThan(deadline + 20);
  });
});

describe("a burst that waits in geosync's own queue", () => {
  it('100 distinct new tags on 5 ms storage behind a root share of 2: all rescued, no breaker, and the next too', async () => {
    const clock = new ManualClock();
    const slow = new TimedProbe('a', clock, 5, (k) => k.includes('/burst-'), new FsCalls(2));
    const { locator, events } = setup([slow], clock, { ...DEFAULTS, ...WIDE });
    const lookups = Array.from({ length: 100 }, (_, i) =>
      locator.locate(tagged(`burst-${i}`), new AbortController().signal),
    );
    const results = await settle(clock, lookups, 1);
    expect(results.filter((r) => r.outcome === 'found')).toHaveLength(100);
    expect(events.filter((e) => e.startsWith('breaker:'))).toEqual([]);
    expect(events).not.toContain('shed');
    const next = await timed(clock, () => locator.locate(tagged('burst-next'), new AbortController().signal));
    expect(next.result).toMatchObject({ outcome: 'found', region: 'a' });
  });

  it('the behaviour before: one fixed deadline counted from the lookup’s start, and the tail of the burst timed out', async () => {
    // The same burst, when the probe does not say when its requests leave and the deadline is
    // one fixed 150 ms: the tail of the queue passes it.
    const clock = new ManualClock();
    const calls = new FsCalls(2);
    const slow = new TimedProbe('a', clock, 5, () => true, calls);
    const blind: ObjectProbe = {
      region: 'a',
      keysInTurn: true,
      head: (key, opts) => slow.head(key, { signal: opts.signal }),
      read: (key, opts) => slow.read(key, { signal: opts.signal }),
      list: () => slow.list(),
      close: () => slow.close(),
    };
    const locator = new ProbeLocator(
      [{ region: 'a', probe: blind }],
      locatorOptions({
        probeBlobData: false,
        maxConcurrentProbesPerRegion: 256,
        lookupTimeoutMs: 150,
        lookupTimeoutMaxMs: 150,
        ...WIDE,
      }),
      { clock },
    );
    const lookups = Array.from({ length: 100 }, (_, i) =>
      locator.locate(tagged(`burst-${i}`), new AbortController().signal),
    );
    const results = await settle(clock, lookups, 1);
    expect(results.filter((r) => r.outcome !== 'found').length).toBeGreaterThan(0);
  });
});

describe('what silence at the hard limit counts against', () => {
  /** One lookup (a breaker opens on one failure); c never answers, a after `aDelayMs`. */
  async function oneLookup(aDelayMs: number) {
    const clock = new ManualClock();
    const a = new TimedProbe('a', clock, aDelayMs, () => false);
    const c = new TimedProbe('c', clock, 60_000, () => false);
    const { locator, events } = setup([a, c], clock, {
      ...DEFAULTS,
      breaker: { failureThreshold: 1, coolDownMs: 10_000 },
    });
    await settle(clock, [locator.locate(tagged('t'), new AbortController().signal)]);
    // The lookup's far end: its probes are heard until the hard limit.
    await settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), 2_100))]);
    return events;
  }

  it('a region silent while another answered in time is slow: its breaker counts it', async () => {
    expect(await oneLookup(10)).toContain('breaker:c:open');
  });

  it('a region silent while it answered other probes meanwhile is busy, not gone: its breaker does not count it', async () => {
    const clock = new ManualClock();
    const a = new TimedProbe('a', clock, 10, () => false);
    // c leaves one request unanswered and answers the next at once (an overloaded storage's tail).
    const c = new TimedProbe(
      'c',
      clock,
      (key) => (key.includes('/stuck/') ? 60_000 : 10),
      () => false,
    );
    const { locator, events } = setup([a, c], clock, {
      ...DEFAULTS,
      breaker: { failureThreshold: 1, coolDownMs: 10_000 },
    });
    const stuck = locator.locate(tagged('stuck'), new AbortController().signal);
    await settle(clock, [locator.locate(tagged('fine'), new AbortController().signal)]);
    await settle(clock, [stuck]);
    await settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), 2_100))]);
    expect(events).toContain('probe:c:timeout');
    expect(events).not.toContain('breaker:c:open');
  });

  it('a region silent while the other answered only after its own deadline is no evidence (one overloaded storage, or this side)', async () => {
    // a's deadline is the minimum (150 ms) before any sample: its answer at 500 ms is late.
    const events = await oneLookup(500);
    expect(events).not.toContain('breaker:c:open');
    expect(events).toContain('probe:c:timeout');
  });
});

describe('how long a lookup starting now may wait for a region (the tag freshness check reads it)', () => {
  it('up to the hard limit while the region answers; its learnt deadline once a probe went unanswered', async () => {
    const clock = new ManualClock();
    const a = new TimedProbe('a', clock, 250, () => false);
    const { locator } = setup([a], clock, {
      ...DEFAULTS,
      breaker: { failureThreshold: 2, coolDownMs: 10_000 },
    });
    expect(locator.waitMs('a')).toBe(2_000);
    await settle(clock, [locator.locate(tagged('t1'), new AbortController().signal)]);
    expect(locator.waitMs('a')).toBe(2_000);
    // a stops answering: one probe heard nothing by the hard limit.
    a.delayMs = 60_000;
    await settle(clock, [locator.locate(tagged('t2'), new AbortController().signal)]);
    await settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), 2_100))]);
    const learnt = locator.waitMs('a');
    expect(learnt).toBeGreaterThanOrEqual(150);
    expect(learnt).toBeLessThan(2_000);
    expect(locator.waitMs('nowhere')).toBeUndefined();
  });

  it('keep-warm tells it too: a keep-warm request unanswered by the hard limit cuts the wait to the learnt deadline, an answered one restores it', async () => {
    const clock = new ManualClock();
    const a = new TimedProbe('a', clock, 250, () => false);
    const { locator } = setup([a], clock, { ...DEFAULTS, keepWarmIntervalMs: 1_000 });
    const wait = (ms: number) => settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), ms))]);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    expect(locator.waitMs('a')).toBe(2_000);
    // a stops answering: the next keep-warm request (1 s on) gets nothing by the hard limit (2 s).
    a.delayMs = 60_000;
    await wait(3_500);
    const learnt = locator.waitMs('a')!;
    expect(learnt).toBeGreaterThanOrEqual(250);
    expect(learnt).toBeLessThan(2_000);
    // a answers again: the first keep-warm request it answers makes it heard.
    a.delayMs = 250;
    await wait(5_000);
    expect(locator.waitMs('a')).toBe(2_000);
    await locator.close();
  });
});

describe('a holder under load: the last answer stands when a new lookup runs out of time', () => {
  it("a tag's entry expired mid-herd and its new lookup passes the hard limit: the tag's last holder answers", async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, () => true);
    const { locator } = setup([far], clock, DEFAULTS);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    const first = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(first.result).toMatchObject({ outcome: 'found', region: 'far' });
    // The tag's entry (tagTtlMs, 5 s) expires; the holder, busy with the herd, answers too late.
    await settle(clock, [new Promise((r) => clock.setTimer(() => r(undefined), 6_000))]);
    far.delayMs = 5_000;
    const again = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(again.result).toMatchObject({ outcome: 'found', region: 'far' });
    expect(again.ms).toBeGreaterThanOrEqual(2_000);
    // Never found before: nothing stands in for a lookup that ran out of time.
    const never = await timed(clock, () => locator.locate(tagged('v9'), new AbortController().signal));
    expect(never.result).toEqual({ outcome: 'timeout' });
  });

  it("a blob never hinted, whose lookup runs out of time, is answered by the region its repository's manifest came from", async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, () => true);
    const { locator } = setup([far], clock, { ...DEFAULTS, manifestContents: false });
    await settle(clock, [locator.warm(new AbortController().signal)]);
    const manifest = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(manifest.result).toMatchObject({ outcome: 'found', region: 'far' });
    far.delayMs = 5_000;
    const blob = (repository: string): PullTarget => ({
      kind: 'blob',
      repository,
      digest: { algorithm: 'sha256', hex: 'ab'.repeat(32) },
    });
    const same = await timed(clock, () => locator.locate(blob('team/app'), new AbortController().signal));
    expect(same.result).toMatchObject({ outcome: 'found', region: 'far' });
    // Another repository's blob has no such holder.
    const other = await timed(clock, () => locator.locate(blob('team/other'), new AbortController().signal));
    expect(other.result).toEqual({ outcome: 'timeout' });
  });

  it('the behaviour without it: the same late lookup was a timeout, and the pull got the local 404', async () => {
    const clock = new ManualClock();
    const far = new TimedProbe('far', clock, 250, () => true);
    const { locator } = setup([far], clock, DEFAULTS);
    await settle(clock, [locator.warm(new AbortController().signal)]);
    far.delayMs = 5_000;
    const late = await timed(clock, () => locator.locate(tagged('v1'), new AbortController().signal));
    expect(late.result).toEqual({ outcome: 'timeout' });
  });
});
