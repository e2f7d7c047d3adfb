// The order jest starts test files in. With the timings of an earlier run (jest's cache), jest's
// own order: failed files first, then the longest first. Without them (a fresh clone, as CI runs),
// jest falls back to the larger file first, and the benchmark's smoke test (a short file that runs
// for a minute and more) started among the last, so one worker ran it alone at the end of the run.
// Here the files without timings start by the timeout each declares (`jest.setTimeout`; the files
// that run long set more, jest.config.js), then by size: the long ones start first and the many
// short ones fill the end.
const fs = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

// A number or a product of numbers (`jest.setTimeout(40 * 60_000)`).
const TIMEOUT = /jest\.setTimeout\(\s*([\d_]+(?:\s*\*\s*[\d_]+)*)\s*\)/;
const product = (text) => text.split('*').reduce((p, n) => p * Number(n.trim().replace(/_/g, '')), 1);

class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests); // also sets each test's duration from the cache
    const declared = new Map();
    const timeoutOf = (test) => {
      if (!declared.has(test.path)) {
        const m = TIMEOUT.exec(fs.readFileSync(test.path, 'utf8'));
        declared.set(test.path, m ? product(m[1]) : 0);
      }
      return declared.get(test.path);
    };
    const rank = new Map(sorted.map((t, i) => [t, i]));
    return [...sorted].sort((a, b) => {
      const untimed = a.duration == null && b.duration == null && !this.hasFailed(a) && !this.hasFailed(b);
      if (untimed && timeoutOf(a) !== timeoutOf(b)) return timeoutOf(b) - timeoutOf(a);
      return rank.get(a) - rank.get(b);
    });
  }
}

module.exports = LongestFirst;
