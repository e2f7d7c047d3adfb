/**
 * probeKeys (src/locate/region.ts): a target's keys asked all at once (S3: a round trip each) or
 * in turn, stopping at the first that is not found (the filesystem: ObjectProbe.keysInTurn).
 */
import { probeKeys } from '../../../src/locate/region';
import type { ProbeResult } from '../../../src/storage/probe';
import { FakeProbe, FOUND, MISSING, type Script } from './fake-probe';

const KEYS = ['link', 'data'];
const DENIED: ProbeResult = { status: 'error', kind: 'denied', message: '403' };
const DOWN: ProbeResult = { status: 'error', kind: 'unavailable', message: 'EIO' };

function probe(script: Script, inTurn: boolean): FakeProbe {
  const p = new FakeProbe('a', script);
  return Object.assign(p, { keysInTurn: inTurn });
}

const by =
  (answers: Record<string, ProbeResult>): Script =>
  (key) =>
    answers[key] ?? MISSING;

describe.each([
  ['in turn', true],
  ['all at once', false],
])('keys asked %s', (_, inTurn) => {
  test.each<[string, Record<string, ProbeResult>, ProbeResult['status'] | 'not_found (denied)']>([
    ['every key found', { link: FOUND, data: FOUND }, 'found'],
    ['the first missing', { data: FOUND }, 'not_found'],
    ['the second missing', { link: FOUND }, 'not_found'],
    ['the first refused (403)', { link: DENIED, data: FOUND }, 'not_found (denied)'],
    ['the first failing', { link: DOWN, data: FOUND }, 'error'],
  ])('%s: the same answer either way', async (__, answers, expected) => {
    const p = probe(by(answers), inTurn);
    const answer = await probeKeys(p, KEYS, new AbortController().signal);
    const status = 'denied' in answer && answer.denied ? 'not_found (denied)' : answer.status;
    expect(status).toBe(expected);
  });
});

test('in turn, a key not found leaves the next unasked; a found key asks it', async () => {
  const signal = new AbortController().signal;
  const missing = probe(by({ data: FOUND }), true);
  expect(await probeKeys(missing, KEYS, signal)).toEqual({ status: 'not_found' });
  expect([...missing.calls.keys()]).toEqual(['link']);

  const found = probe(by({ link: FOUND, data: FOUND }), true);
  expect((await probeKeys(found, KEYS, signal)).status).toBe('found');
  expect([...found.calls.keys()]).toEqual(['link', 'data']);
});

test('all at once, every key is asked before any answers', async () => {
  const p = probe(() => 'manual', false);
  const answer = probeKeys(p, KEYS, new AbortController().signal);
  expect([...p.calls.keys()]).toEqual(['link', 'data']);
  p.release(MISSING);
  expect(await answer).toEqual({ status: 'not_found' });
});
