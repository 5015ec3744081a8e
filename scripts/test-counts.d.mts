// Types of test-counts.mjs (a plain module, so that `npm test` runs it with node alone).

export interface Counts {
  passed: number;
  /** Every failure, including the tests counted in didNotRun and skipped. */
  failed: number;
  /** Tests that did not run in a file that failed, or after a failed hook. */
  didNotRun: number;
  /** Tests skipped (or todo) in a file that passed. */
  skipped: number;
  /** One line per reason a count differs from what the runner itself reported. */
  notes: string[];
}

export interface VitestJsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { status: string }[];
  }[];
}

export interface PlaywrightJsonSuite {
  specs?: { tests: { expectedStatus: string; status: string }[] }[];
  suites?: PlaywrightJsonSuite[];
}

export interface PlaywrightJsonReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  suites?: PlaywrightJsonSuite[];
  errors?: { message?: string }[];
}

export function countVitestReport(report: VitestJsonReport): Counts;
export function countPlaywrightReport(report: PlaywrightJsonReport): Counts;
