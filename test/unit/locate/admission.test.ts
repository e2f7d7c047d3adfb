import { LookupAdmission } from '../../../src/locate/admission';
import { ManualClock } from '../../support/clock';

const DEADLINE = 140;

function admission(initial = 8) {
  const clock = new ManualClock();
  return { clock, a: new LookupAdmission({ initial, min: 2, max: 16 }, DEADLINE, clock) };
}

/** Starts lookups until one is refused; returns how many started. */
function fill(a: LookupAdmission): number {
  let n = 0;
  while (a.tryStart()) n += 1;
  return n;
}

describe('LookupAdmission', () => {
  it('starts at most `limit` lookups at once; a finished one frees its place', () => {
    const { a } = admission();
    expect(fill(a)).toBe(8);
    a.finished('region');
    expect(a.tryStart()).toBe(true);
    expect(a.tryStart()).toBe(false);
  });

  it('halves the limit when a deadline passes because of this side, once per deadline', () => {
    const { a, clock } = admission();
    fill(a);
    a.finished('local');
    a.finished('local');
    expect(a.limit).toBe(4);
    clock.advance(DEADLINE);
    a.finished('local');
    expect(a.limit).toBe(2);
    clock.advance(DEADLINE);
    a.finished('local');
    expect(a.limit).toBe(2);
  });

  it('a region’s own slowness does not change the limit', () => {
    const { a } = admission();
    fill(a);
    a.finished('region');
    expect(a.limit).toBe(8);
  });

  it('raises the limit by one per lookup decided in time while the limit was in use, up to max', () => {
    const { a } = admission();
    fill(a);
    // 8 running of 8, then 7 of 9, 6 of 10: in use; 5 of 11 is not.
    for (let i = 0; i < 4; i++) a.finished(undefined);
    expect(a.limit).toBe(11);
    const quiet = admission().a;
    quiet.tryStart();
    quiet.finished(undefined);
    expect(quiet.limit).toBe(8);
    const busy = admission(16).a;
    fill(busy);
    busy.finished(undefined);
    expect(busy.limit).toBe(16);
  });
});

describe('LookupAdmission: one client cannot fill the window', () => {
  it('a client at its share starts more only while less than half the window is in use', () => {
    const { a } = admission(16);
    // share = max(4, 16 / 8) = 4; half the window = 8.
    expect(a.share).toBe(4);
    let flood = 0;
    while (a.tryStart('flooder')) flood += 1;
    expect(flood).toBe(8);
    // Others, under their share, take the other half.
    let others = 0;
    for (const c of ['n1', 'n2', 'n3']) while (a.tryStart(c)) others += 1;
    expect(others).toBe(8);
    expect(a.tryStart('n4')).toBe(false);
  });

  it('a finished lookup gives its place back to its client', () => {
    const { a } = admission(16);
    for (let i = 0; i < 8; i++) a.tryStart('x');
    expect(a.tryStart('x')).toBe(false);
    a.release('x');
    // 7 of 16 running: under half, so a client past its share may start one more.
    expect(a.tryStart('x')).toBe(true);
    expect(a.tryStart('x')).toBe(false);
  });
});
