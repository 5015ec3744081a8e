#!/usr/bin/env node
// `npm test`: the whole suite — unit and integration tests (vitest) and
// end-to-end tests (Playwright in the system Chromium) — ending with one line
// `N passed, N failed`. A test that did not run (its file or a hook failed, or
// it was skipped) counts as failed: see test-counts.mjs.
//
// `node scripts/test.mjs static|unit|e2e [files…]` runs one part; files (or
// filters) after `unit` or `e2e` are handed to vitest or Playwright.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ensureDashboardBuilt, root } from "./build-web.mjs";
import { ensureRequirements } from "./system-requirements.mjs";
import { countPlaywrightReport, countVitestReport } from "./test-counts.mjs";

const requirements = ensureRequirements();
if (!requirements.ok) {
  process.stderr.write(`${requirements.message}\n`);
  process.exit(1);
}

const resultsDir = path.join(root, ".test-results");
mkdirSync(resultsDir, { recursive: true });
const bin = (name) => path.join(root, "node_modules/.bin", name);
const only = process.argv[2]; // "static", "unit" or "e2e" to run one part
const filters = process.argv.slice(3);

let passed = 0;
let failed = 0;
/** Lines explaining counts the runners would have reported differently, printed before the total. */
const notes = [];
const add = (counts) => {
  passed += counts.passed;
  failed += counts.failed;
  notes.push(...counts.notes);
};

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
  rmSync(vitestJson, { force: true }); // a report left by an earlier run must not be counted
  const failedBefore = failed;
  const run = spawnSync(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`, ...filters],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  if (existsSync(vitestJson)) {
    add(countVitestReport(JSON.parse(readFileSync(vitestJson, "utf8"))));
  } else {
    notes.push("vitest wrote no report (see above): counted as one failure");
    failed += 1;
  }
  if (run.status !== 0 && failed === failedBefore) {
    notes.push(
      `vitest exited with ${run.status ?? run.signal} although no test failed (see above): counted as one failure`,
    );
    failed += 1;
  }
}

if (!only || only === "e2e") {
  if (!ensureDashboardBuilt()) {
    process.stderr.write("npm test: building the dashboard failed (see above)\n");
    failed += 1;
  } else {
    const failedBefore = failed;
    const playwrightJson = path.join(resultsDir, "playwright.json");
    rmSync(playwrightJson, { force: true });
    const run = spawnSync(bin("playwright"), ["test", "--reporter=list,json", ...filters], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson },
    });
    if (existsSync(playwrightJson)) {
      add(countPlaywrightReport(JSON.parse(readFileSync(playwrightJson, "utf8"))));
    } else {
      notes.push("Playwright wrote no report (see above): counted as one failure");
      failed += 1;
    }
    if (run.status !== 0 && failed === failedBefore) {
      notes.push(
        `Playwright exited with ${run.status ?? run.signal} although no test failed (see above): counted as one failure`,
      );
      failed += 1;
    }
  }
}

process.stdout.write(`\n${notes.map((note) => `${note}\n`).join("")}${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
