import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

// One real server for the run: a fresh embedded PostgreSQL in a temporary
// directory, the built dashboard, on a free port.
const port =
  process.env.TAPFLEET_E2E_PORT ??
  execFileSync(process.execPath, [
    "-e",
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ])
    .toString()
    .trim();
process.env.TAPFLEET_E2E_PORT = port;
if (!process.env.TAPFLEET_E2E_STATE) {
  process.env.TAPFLEET_E2E_STATE = mkdtempSync(path.join(tmpdir(), "tapfleet-e2e-"));
  // The embedded PostgreSQL runs as another user and must reach its data inside.
  chmodSync(process.env.TAPFLEET_E2E_STATE, 0o755);
}
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: "list",
  outputDir: ".test-results/playwright",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: "node e2e/support/server.mjs",
    url: `${baseURL}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: port,
      TAPFLEET_E2E_STATE: process.env.TAPFLEET_E2E_STATE,
    },
  },
});
