// Prints the run's totals as one plain line ("tests: N passed, N failed"),
// the form CI reads whatever the test runner; also into TEST_SUMMARY_FILE when
// set, so .ci/run can end its output with it.
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`;
    process.stdout.write(line);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, line);
  }
}

module.exports = SummaryReporter;
