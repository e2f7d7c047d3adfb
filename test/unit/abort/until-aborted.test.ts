import { untilAborted } from '../../../src/abort/until-aborted';

const never = new Promise<string>(() => {});

describe('untilAborted', () => {
  it('answers the work’s value when it settles first, and leaves no listener behind', async () => {
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    expect(await untilAborted(Promise.resolve('work'), controller.signal, () => 'aborted')).toBe('work');
    expect(listeners.live()).toBe(0);
  });

  it('answers onAbort() the moment the signal aborts, while the work goes on', async () => {
    const controller = new AbortController();
    let workDone = false;
    const work = new Promise<string>((resolve) => setImmediate(() => resolve('late'))).then((v) => {
      workDone = true;
      return v;
    });
    const waiting = untilAborted(work, controller.signal, () => 'aborted');
    controller.abort();
    expect(await waiting).toBe('aborted');
    expect(workDone).toBe(false);
    expect(await work).toBe('late');
  });

  it('answers onAbort() at once for a signal that has already aborted', async () => {
    expect(await untilAborted(never, AbortSignal.abort(), () => 'aborted')).toBe('aborted');
  });

  it('passes a rejection of the work on, and removes its listener', async () => {
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    await expect(
      untilAborted(Promise.reject(new Error('boom')), controller.signal, () => 'x'),
    ).rejects.toThrow('boom');
    expect(listeners.live()).toBe(0);
  });
});

/** Counts the abort listeners added to and removed from `signal`. */
function countListeners(signal: AbortSignal) {
  let live = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    live += 1;
    return add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    live -= 1;
    return remove(...args);
  }) as typeof remove;
  return { live: () => live };
}
