#!/usr/bin/env node
// Prints jest's totals as the plain line CI reads: "N passed, M failed[, K skipped]".
'use strict';
const fs = require('node:fs');
const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
// A suite that fails to load has no test results but must count as a failure.
const brokenSuites = r.testResults.filter(
  (s) => s.status === 'failed' && s.assertionResults.length === 0,
).length;
const skipped = r.numPendingTests + r.numTodoTests;
console.log(
  `${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed` +
    (skipped ? `, ${skipped} skipped` : ''),
);
