import { FAILURE_TTL_MS, SharedAnswers, type Ask } from '../../../src/util/shared-answers';
import { ManualClock } from '../../support/clock';

type Answer = 'yes' | 'no' | 'failed';

function setup(workTimeoutMs = 500) {
  const clock = new ManualClock();
  const answers = new SharedAnswers<Answer>({
    clock,
    workTimeoutMs,
    isFailure: (a) => a === 'failed',
  });
  return { clock, answers };
}

/** Work that answers when the test says, counting how often it started and seeing its signal. */
function scripted() {
  let started = 0;
  let finish: (a: Answer) => void = () => {};
  let signal: AbortSignal | undefined;
  const ask = (ttlMs: number): Ask<Answer> => ({
    work: (s) => {
      started++;
      signal = s;
      return new Promise<Answer>((resolve) => (finish = resolve));
    },
    ttlOf: () => ttlMs,
    interrupted: () => 'failed',
  });
  return { ask, answer: (a: Answer) => finish(a), started: () => started, signal: () => signal };
}

const never = new AbortController().signal;

test('concurrent asks share one piece of work, and its answer is reused for its TTL and no longer', async () => {
  const { clock, answers } = setup();
  const w = scripted();
  const first = answers.get('k', never, w.ask(1000));
  const second = answers.get('k', never, w.ask(1000));
  w.answer('yes');
  expect(await first).toEqual({ value: 'yes', shared: 'own' });
  expect(await second).toEqual({ value: 'yes', shared: 'joined' });
  expect(w.started()).toBe(1);
  clock.advance(999);
  expect(await answers.get('k', never, w.ask(1000))).toEqual({ value: 'yes', shared: 'cache' });
  expect(answers.cached('k')).toBe('yes');
  clock.advance(1);
  expect(answers.cached('k')).toBeUndefined();
});

test('a failure is reused for FAILURE_TTL_MS at most; an answer with TTL 0 is not kept', async () => {
  const { clock, answers } = setup();
  const w = scripted();
  const failing = answers.get('k', never, w.ask(60_000));
  w.answer('failed');
  await failing;
  clock.advance(FAILURE_TTL_MS - 1);
  expect(answers.cached('k')).toBe('failed');
  clock.advance(1);
  expect(answers.cached('k')).toBeUndefined();
  const unkept = answers.get('other', never, w.ask(0));
  w.answer('no');
  expect((await unkept).value).toBe('no');
  expect(answers.cached('other')).toBeUndefined();
});

test('a waiter leaves at its own signal; the work goes on to its own deadline and is kept', async () => {
  const { clock, answers } = setup(500);
  const w = scripted();
  const waiter = new AbortController();
  const leaving = answers.get('k', waiter.signal, w.ask(1000));
  waiter.abort();
  expect(await leaving).toEqual({ value: 'failed', shared: 'own' });
  expect(w.signal()?.aborted).toBe(false);
  clock.advance(499);
  await new Promise((r) => setImmediate(r));
  expect(w.signal()?.aborted).toBe(false);
  w.answer('yes');
  await Promise.resolve();
  await Promise.resolve();
  expect(answers.cached('k')).toBe('yes');
});

test('the work signal aborts at the work deadline, whatever its waiters', async () => {
  const { clock, answers } = setup(500);
  const w = scripted();
  const waiting = answers.get('k', never, w.ask(1000));
  clock.advance(499);
  await new Promise((r) => setImmediate(r));
  expect(w.signal()?.aborted).toBe(false);
  clock.advance(1);
  // The deadline fires one event-loop turn late (src/clock/deadline.ts).
  await new Promise((r) => setImmediate(r));
  expect(w.signal()?.aborted).toBe(true);
  w.answer('failed');
  expect((await waiting).value).toBe('failed');
});

test('remember keeps an answer learnt elsewhere for the TTL given', async () => {
  const { clock, answers } = setup();
  answers.remember('k', 'yes', 100);
  expect(answers.cached('k')).toBe('yes');
  clock.advance(100);
  expect(answers.cached('k')).toBeUndefined();
});
