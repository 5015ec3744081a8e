#!/usr/bin/env node
// `npm test`: the whole suite — unit and integration tests (vitest) and
// end-to-end tests (Playwright in the system Chromium) — ending with one line
// `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ensureDashboardBuilt, root } from "./build-web.mjs";
import { ensureRequirements } from "./system-requirements.mjs";

const requirements = ensureRequirements();
if (!requirements.ok) {
  process.stderr.write(`${requirements.message}\n`);
  process.exit(1);
}

const resultsDir = path.join(root, ".test-results");
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const bin = (name) => path.join(root, "node_modules/.bin", name);
const only = process.argv[2]; // "static", "unit" or "e2e" to run one part

let passed = 0;
let failed = 0;
let skipped = 0;

// Static checks count as one test each: a lint or type error fails the run.
if (!only || only === "static") {
  for (const [name, script] of [
    ["typecheck", "typecheck"],
    ["lint (ESLint and import layering)", "lint"],
    ["formatting (Prettier)", "format:check"],
  ]) {
    process.stdout.write(`\n── ${name} ──\n`);
    const run = spawnSync("npm", ["run", "-s", script], { cwd: root, stdio: "inherit" });
    if (run.status === 0) {
      passed += 1;
      process.stdout.write(`✓ ${name}\n`);
    } else {
      failed += 1;
      process.stdout.write(`✗ ${name} failed\n`);
    }
  }
}

if (!only || only === "unit") {
  const vitestJson = path.join(resultsDir, "vitest.json");
  const run = spawnSync(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  if (existsSync(vitestJson)) {
    const report = JSON.parse(readFileSync(vitestJson, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    // A file that fails to load has no tests to count: count it as a failure.
    const brokenFiles = report.testResults.filter(
      (file) => file.status === "failed" && file.assertionResults.length === 0,
    );
    failed += brokenFiles.length;
  } else {
    failed += 1;
  }
  if (run.status !== 0 && failed === 0) failed += 1;
}

if (!only || only === "e2e") {
  if (!ensureDashboardBuilt()) {
    process.stderr.write("npm test: building the dashboard failed (see above)\n");
    failed += 1;
  } else {
    const playwrightJson = path.join(resultsDir, "playwright.json");
    const run = spawnSync(bin("playwright"), ["test", "--reporter=list,json"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson },
    });
    if (existsSync(playwrightJson)) {
      const stats = JSON.parse(readFileSync(playwrightJson, "utf8")).stats;
      passed += stats.expected + stats.flaky;
      failed += stats.unexpected;
      skipped += stats.skipped;
    } else {
      failed += 1;
    }
    if (run.status !== 0 && failed === 0) failed += 1;
  }
}

process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exitCode = failed > 0 ? 1 : 0;
