// Counting for `npm test`'s closing line, from the JSON reports vitest and
// Playwright write. Pure: a report in, counts out.
//
// Nothing in this suite is skipped on purpose, so every test that did not run
// is a failure: one whose file or hook failed (vitest and Playwright both
// report those as "skipped"), and one skipped or left as a todo in the code.
// A file that failed without a failing test of its own (it did not load, or
// an afterAll hook threw) counts as one failure too. Vitest's report does not
// tell a test skipped after a failed beforeAll from one skipped in the code:
// in a file that failed, both are counted as not run.

// Types: test-counts.d.mts.

/**
 * @param {import("./test-counts.d.mts").Counts} counts
 * @param {string} runner
 */
function explain(counts, runner) {
  if (counts.didNotRun > 0)
    counts.notes.push(
      `${runner}: ${counts.didNotRun} test(s) did not run because their file or a hook failed: counted as failed`,
    );
  if (counts.skipped > 0)
    counts.notes.push(
      `${runner}: ${counts.skipped} test(s) skipped or todo: nothing may be skipped in this suite, counted as failed`,
    );
  return counts;
}

/**
 * Counts vitest's JSON report (`--reporter=json`).
 * @param {import("./test-counts.d.mts").VitestJsonReport} report
 * @returns {import("./test-counts.d.mts").Counts}
 */
export function countVitestReport(report) {
  /** @type {import("./test-counts.d.mts").Counts} */
  const counts = { passed: 0, failed: 0, didNotRun: 0, skipped: 0, notes: [] };
  for (const file of report.testResults) {
    const fileFailed = file.status !== "passed";
    let failuresInFile = 0;
    for (const test of file.assertionResults) {
      if (test.status === "passed") counts.passed += 1;
      else if (test.status === "failed") failuresInFile += 1;
      else if (fileFailed) {
        counts.didNotRun += 1;
        failuresInFile += 1;
      } else {
        counts.skipped += 1;
        failuresInFile += 1;
      }
    }
    if (fileFailed && failuresInFile === 0) {
      failuresInFile = 1;
      const reason = file.message ? `: ${file.message.split("\n")[0]}` : "";
      counts.notes.push(`vitest: ${file.name} failed outside its tests${reason}`);
    }
    counts.failed += failuresInFile;
  }
  return explain(counts, "vitest");
}

/**
 * Counts Playwright's JSON report (`--reporter=json`).
 * @param {import("./test-counts.d.mts").PlaywrightJsonReport} report
 * @returns {import("./test-counts.d.mts").Counts}
 */
export function countPlaywrightReport(report) {
  const { stats } = report;
  /** @type {import("./test-counts.d.mts").Counts} */
  const counts = {
    passed: stats.expected + stats.flaky,
    failed: stats.unexpected + stats.skipped,
    didNotRun: 0,
    skipped: 0,
    notes: [],
  };
  // A skipped test marked to be skipped was skipped on purpose; any other did not run because a hook failed.
  /** @param {import("./test-counts.d.mts").PlaywrightJsonSuite} suite */
  const walk = (suite) => {
    for (const spec of suite.specs ?? [])
      for (const test of spec.tests) {
        if (test.status !== "skipped") continue;
        if (test.expectedStatus === "skipped") counts.skipped += 1;
        else counts.didNotRun += 1;
      }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of report.suites ?? []) walk(suite);
  // Without suites (a trimmed report) the stats alone still say how many were skipped.
  counts.didNotRun += Math.max(0, stats.skipped - counts.skipped - counts.didNotRun);
  // Errors outside tests: a file that did not load, a global setup that threw.
  for (const error of report.errors ?? []) {
    counts.failed += 1;
    counts.notes.push(`playwright: error outside the tests: ${(error.message ?? "").split("\n")[0]}`);
  }
  return explain(counts, "playwright");
}
