// The counts behind `npm test`'s closing line, taken from real reports: vitest
// and Playwright run here on small fixture files (in a scratch directory, with
// configs of their own) and the JSON they write is counted.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { countPlaywrightReport, countVitestReport } from "./test-counts.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");

function fixtureDir(prefix: string, files: Record<string, string>): string {
  const scratch = process.env.TAPFLEET_TEST_SCRATCH ?? os.tmpdir();
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(path.join(scratch, `${prefix}-`));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  writeFileSync(path.join(dir, "package.json"), '{ "type": "module", "private": true }\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The environment without this run's own vitest variables, so the inner run is a run of its own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
  return env;
}

function runReporter(dir: string, command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(path.join(ROOT, "node_modules/.bin", command), args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...cleanEnv(), CI: "true", ...env },
    timeout: 60_000,
  });
  expect(result.error, `${command} started`).toBeUndefined();
  return result;
}

describe("counting vitest's JSON report", () => {
  let raw: {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: Parameters<typeof countVitestReport>[0]["testResults"];
  };

  beforeAll(() => {
    const dir = fixtureDir("vitest-counts", {
      "vitest.config.mjs": 'export default { test: { include: ["*.fixture.ts"] } };\n',
      "hook.fixture.ts": [
        'import { beforeAll, describe, expect, it } from "vitest";',
        'describe("a group whose setup fails", () => {',
        '  beforeAll(() => { throw new Error("setup failed"); });',
        '  it("first", () => expect(1).toBe(1));',
        '  it("second", () => expect(1).toBe(1));',
        "});",
        "",
      ].join("\n"),
      "failing.fixture.ts": [
        'import { expect, it } from "vitest";',
        'it("fails", () => expect(1).toBe(2));',
        "",
      ].join("\n"),
      "skips.fixture.ts": [
        'import { expect, it } from "vitest";',
        'it("passes", () => expect(1).toBe(1));',
        'it.skip("is skipped", () => expect(1).toBe(1));',
        'it.todo("is a todo");',
        "",
      ].join("\n"),
      "teardown.fixture.ts": [
        'import { afterAll, expect, it } from "vitest";',
        'afterAll(() => { throw new Error("teardown failed"); });',
        'it("passes before the teardown fails", () => expect(1).toBe(1));',
        "",
      ].join("\n"),
      "unloadable.fixture.ts": [
        'import "./missing-module.ts";',
        'import { it } from "vitest";',
        'it("never collected", () => {});',
        "",
      ].join("\n"),
    });
    const output = path.join(dir, "vitest.json");
    const result = runReporter(dir, "vitest", [
      "run",
      "--config=vitest.config.mjs",
      "--reporter=json",
      `--outputFile.json=${output}`,
    ]);
    expect(result.status, "the fixture run fails").toBe(1);
    raw = JSON.parse(readFileSync(output, "utf8")) as typeof raw;
  });

  it("reads a report in which vitest itself calls the tests of a failed beforeAll skipped", () => {
    // What vitest's own totals say, and what `npm test` used to print: 2 passed, 1 failed, 5 skipped.
    expect(raw.numPassedTests).toBe(2);
    expect(raw.numFailedTests).toBe(1);
    expect(raw.numPendingTests + raw.numTodoTests).toBe(4);
  });

  it("counts the tests of a failing beforeAll as failed, and says why", () => {
    const counts = countVitestReport(raw);
    expect(counts.didNotRun).toBe(2);
    expect(counts.notes).toContain(
      "vitest: 2 test(s) did not run because their file or a hook failed: counted as failed",
    );
  });

  it("counts a skipped or todo test as failed, and says so", () => {
    const counts = countVitestReport(raw);
    expect(counts.skipped).toBe(2);
    expect(counts.notes).toContain(
      "vitest: 2 test(s) skipped or todo: nothing may be skipped in this suite, counted as failed",
    );
  });

  it("counts a file that failed outside its tests (not loaded, afterAll) as one failure each", () => {
    const counts = countVitestReport(raw);
    expect(counts.notes.filter((n) => / failed outside its tests/.test(n)).sort()).toEqual([
      expect.stringMatching(/teardown\.fixture\.ts failed outside its tests: teardown failed$/),
      expect.stringMatching(/unloadable\.fixture\.ts failed outside its tests: .*missing-module/),
    ]);
    // 1 failing test + 2 that did not run + 2 skipped or todo + 2 files.
    expect({ passed: counts.passed, failed: counts.failed }).toEqual({ passed: 2, failed: 7 });
  });
});

describe("counting Playwright's JSON report", () => {
  it("counts tests skipped after a failing beforeAll, and tests skipped on purpose, as failed", () => {
    const dir = fixtureDir("playwright-counts", {
      "playwright.config.mjs":
        'export default { testDir: ".", testMatch: "*.fixture.mjs", workers: 1, retries: 0 };\n',
      "counts.fixture.mjs": [
        'import { expect, test } from "@playwright/test";',
        'test("passes", () => expect(1).toBe(1));',
        'test.skip("is skipped", () => {});',
        'test.describe("a group whose setup fails", () => {',
        '  test.beforeAll(() => { throw new Error("setup failed"); });',
        '  test("first", () => {});',
        '  test("second", () => {});',
        '  test("third", () => {});',
        "});",
        "",
      ].join("\n"),
    });
    const output = path.join(dir, "playwright.json");
    const result = runReporter(
      dir,
      "playwright",
      ["test", "--config=playwright.config.mjs", "--reporter=json"],
      {
        PLAYWRIGHT_JSON_OUTPUT_NAME: output,
      },
    );
    expect(result.status, "the fixture run fails").toBe(1);
    const report = JSON.parse(readFileSync(output, "utf8")) as Parameters<typeof countPlaywrightReport>[0];
    // Playwright's own stats: the first test of the group fails, the two after it and the skipped one are "skipped".
    expect(report.stats).toMatchObject({ expected: 1, unexpected: 1, skipped: 3, flaky: 0 });

    const counts = countPlaywrightReport(report);
    expect({ passed: counts.passed, failed: counts.failed }).toEqual({ passed: 1, failed: 4 });
    expect({ didNotRun: counts.didNotRun, skipped: counts.skipped }).toEqual({ didNotRun: 2, skipped: 1 });
    expect(counts.notes).toEqual([
      "playwright: 2 test(s) did not run because their file or a hook failed: counted as failed",
      "playwright: 1 test(s) skipped or todo: nothing may be skipped in this suite, counted as failed",
    ]);
  });

  it("counts an error outside the tests (a file that does not load) as a failure", () => {
    const dir = fixtureDir("playwright-errors", {
      "playwright.config.mjs": 'export default { testDir: ".", testMatch: "*.fixture.mjs", workers: 1 };\n',
      "unloadable.fixture.mjs": 'import "./missing-module.mjs";\n',
      // A loadable file too, so that the only error is the missing module (not "No tests found").
      "passing.fixture.mjs": 'import { test } from "@playwright/test";\ntest("passes", () => {});\n',
    });
    const output = path.join(dir, "playwright.json");
    const result = runReporter(
      dir,
      "playwright",
      ["test", "--config=playwright.config.mjs", "--reporter=json"],
      {
        PLAYWRIGHT_JSON_OUTPUT_NAME: output,
      },
    );
    expect(result.status, "the fixture run fails").toBe(1);
    const report = JSON.parse(readFileSync(output, "utf8")) as Parameters<typeof countPlaywrightReport>[0];
    const counts = countPlaywrightReport(report);
    // Playwright runs nothing when a file does not load: the one error is the whole count.
    expect({ passed: counts.passed, failed: counts.failed }).toEqual({ passed: 0, failed: 1 });
    expect(counts.notes).toEqual([
      expect.stringMatching(/^playwright: error outside the tests: .*missing-module/),
    ]);
  });
});
