import { chooseRegion, type Choice, type RegionAnswer } from '../../../src/locate/hedge';
import { ManualClock } from '../../support/clock';
import { flush } from './fake-probe';

const LM = new Date('2026-01-02T03:04:05Z');
const found: RegionAnswer = { status: 'found', lastModified: LM };
const missing: RegionAnswer = { status: 'not_found' };

/** Regions whose answers the test delivers one by one. */
function regions(n: number) {
  const resolvers: ((a: RegionAnswer) => void)[] = [];
  const answers = Array.from({ length: n }, () => new Promise<RegionAnswer>((r) => resolvers.push(r)));
  const clock = new ManualClock();
  const deadline = new AbortController();
  let choice: Choice | undefined;
  void chooseRegion(answers, { hedgeMs: 10, clock, signal: deadline.signal }).then((c) => (choice = c));
  return {
    answer: async (i: number, a: RegionAnswer) => {
      resolvers[i]!(a);
      await flush();
    },
    clock,
    deadline,
    choice: () => choice,
  };
}

describe('chooseRegion', () => {
  it('answers at once when the most preferred region answers found', async () => {
    const r = regions(3);
    await r.answer(0, found);
    expect(r.choice()).toEqual({ kind: 'found', index: 0, lastModified: LM });
  });

  it('does not let a fast far region beat a near one inside the hedge window', async () => {
    const r = regions(2);
    await r.answer(1, found);
    expect(r.choice()).toBeUndefined();
    r.clock.advance(9);
    await r.answer(0, found);
    expect(r.choice()).toEqual({ kind: 'found', index: 0, lastModified: LM });
  });

  it('takes the far region when the hedge window closes with the near one silent', async () => {
    const r = regions(2);
    await r.answer(1, found);
    r.clock.advance(10);
    await flush();
    expect(r.choice()).toEqual({ kind: 'found', index: 1, lastModified: LM });
  });

  it('takes the far region at once when every nearer one answered not found', async () => {
    const r = regions(3);
    await r.answer(2, found);
    await r.answer(0, missing);
    expect(r.choice()).toBeUndefined();
    await r.answer(1, { status: 'error', kind: 'unavailable' });
    expect(r.choice()).toEqual({ kind: 'found', index: 2, lastModified: LM });
  });

  it('answers not found (complete) once every region answered not found', async () => {
    const r = regions(2);
    await r.answer(0, missing);
    await r.answer(1, { status: 'skipped', authoritative: true });
    expect(r.choice()).toEqual({ kind: 'not_found', complete: true });
  });

  it('marks a miss incomplete when a region was over its cap', async () => {
    const r = regions(2);
    await r.answer(0, missing);
    await r.answer(1, { status: 'skipped', authoritative: false });
    expect(r.choice()).toEqual({ kind: 'not_found', complete: false });
  });

  it('reports an error when no region found it and one failed', async () => {
    const r = regions(2);
    await r.answer(0, missing);
    await r.answer(1, { status: 'error', kind: 'throttled' });
    expect(r.choice()).toEqual({ kind: 'error', errorKind: 'throttled' });
  });

  it('times out at the deadline when a region is silent and none found it', async () => {
    const r = regions(2);
    await r.answer(0, missing);
    r.deadline.abort();
    await flush();
    expect(r.choice()).toEqual({ kind: 'timeout' });
  });

  it('at the deadline, a found answer beats waiting for a silent nearer region', async () => {
    const r = regions(2);
    const clock = r.clock;
    await r.answer(1, found);
    clock.advance(5);
    r.deadline.abort();
    await flush();
    expect(r.choice()).toEqual({ kind: 'found', index: 1, lastModified: LM });
  });

  it('answers not found for no regions at all', async () => {
    const choice = await chooseRegion([], {
      hedgeMs: 10,
      clock: new ManualClock(),
      signal: new AbortController().signal,
    });
    expect(choice).toEqual({ kind: 'not_found', complete: true });
  });
});
