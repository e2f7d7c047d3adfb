import type { ProbeResult } from '../../../src/storage/probe';
import { parseDigest } from '../../../src/oci/reference';
import { OriginFinder } from '../../../src/staleness/origin';
import { manifestRevisionLinkKey } from '../../../src/storage/keys';
import { ManualClock } from '../../support/clock';
import { FakeProbe, flush, MISSING } from '../locate/fake-probe';

const digest = parseDigest(`sha256:${'ab'.repeat(32)}`)!;
const KEY = manifestRevisionLinkKey('team/app', digest);
const PUSHED_AT = Date.UTC(2026, 0, 1, 12, 0, 30);
const found = (secondsBeforePush: number): ProbeResult => ({
  status: 'found',
  lastModified: new Date(PUSHED_AT - secondsBeforePush * 1000),
});

function finder(answers: Record<string, ProbeResult | 'hang'>, clock = new ManualClock()) {
  const probes = Object.entries(answers).map(
    ([region, answer]) => new FakeProbe(region, (key) => (key === KEY ? answer : MISSING)),
  );
  return {
    probes,
    clock,
    finder: new OriginFinder(
      probes.map((p) => ({ region: p.region, probe: p })),
      1_000,
      clock,
    ),
  };
}

test.each<[string, Record<string, ProbeResult>, unknown]>([
  ['no sibling holds it: an origin push', { a: MISSING, c: MISSING }, { kind: 'origin' }],
  [
    'the earliest holder is the origin, whatever the preference order',
    { a: found(5), c: found(40) },
    { kind: 'arrival', sourceRegion: 'c', originAt: PUSHED_AT - 40_000 },
  ],
  ['a copy written at or after this push is no origin', { a: found(0), c: found(-3) }, { kind: 'origin' }],
  [
    'one sibling that errs makes the origin unknown (it might be the earliest)',
    { a: found(40), c: { status: 'error', kind: 'denied', message: 'no' } },
    { kind: 'unknown', reason: 'c: denied' },
  ],
])('%s', async (_name, answers, expected) => {
  const { finder: f, probes } = finder(answers);
  expect(await f.find('team/app', digest, PUSHED_AT, new AbortController().signal)).toEqual(expected);
  // It reads each sibling's revision link, once.
  expect(probes.map((p) => [...p.calls])).toEqual(probes.map(() => [[KEY, 1]]));
});

test('a sibling that never answers: unknown at the deadline', async () => {
  const { finder: f, clock } = finder({ a: found(10), c: 'hang' });
  const answer = f.find('team/app', digest, PUSHED_AT, new AbortController().signal);
  await flush();
  clock.advance(1_000);
  expect(await answer).toEqual({ kind: 'unknown', reason: 'c: aborted' });
});
