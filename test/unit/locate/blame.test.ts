import { blameSilence, type DeadlineFacts } from '../../../src/locate/blame';

const facts = (f: Partial<DeadlineFacts>): DeadlineFacts => ({
  answered: 0,
  silent: 1,
  timerLateMs: 0,
  deadlineMs: 140,
  warmingUp: false,
  ...f,
});

describe('blameSilence', () => {
  it.each<[string, Partial<DeadlineFacts>, 'region' | 'local']>([
    ['silent while another region answered in time', { answered: 1, silent: 1 }, 'region'],
    [
      'silent while another answered, even with a late timer',
      { answered: 1, silent: 2, timerLateMs: 500 },
      'region',
    ],
    ['every asked region silent at the same moment', { answered: 0, silent: 2 }, 'local'],
    ['the only region asked, the timer on time', { silent: 1, timerLateMs: 0 }, 'region'],
    [
      'the only region asked, the timer a quarter of the deadline late',
      { silent: 1, timerLateMs: 35 },
      'region',
    ],
    ['the only region asked, the timer later than that', { silent: 1, timerLateMs: 36 }, 'local'],
    ['before the storage warm-up has finished', { silent: 1, warmingUp: true }, 'local'],
  ])('%s → %s', (_name, f, expected) => {
    expect(blameSilence(facts(f))).toBe(expected);
  });
});
