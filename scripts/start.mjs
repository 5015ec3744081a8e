#!/usr/bin/env node
// `npm start`: builds the dashboard when its build is missing or older than its
// sources, then runs the server in this very process (so signals reach it
// directly and there is one PID to stop).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const webDir = path.join(root, "apps/web");
const buildId = path.join(webDir, ".next/BUILD_ID");

/** Newest modification time under the given directories, skipping build output. */
function newestSource(dirs) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === ".next" || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) walk(dir);
  return newest;
}

const serveDashboard = !/^(false|0|no)$/i.test(process.env.TAPFLEET_SERVE_DASHBOARD ?? "true");
if (serveDashboard && !process.env.TAPFLEET_WEB_DIR) {
  const sources = [webDir, path.join(root, "packages/api/src"), path.join(root, "packages/sensor/src")];
  const stale = !existsSync(buildId) || newestSource(sources) > statSync(buildId).mtimeMs;
  if (stale) {
    process.stdout.write("Building the dashboard (once, or after its sources change)…\n");
    const started = Date.now();
    const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
      cwd: webDir,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (result.status !== 0) {
      process.stderr.write("tapfleet: building the dashboard failed (see above)\n");
      process.exit(1);
    }
    process.stdout.write(`Dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

const { register } = await import("tsx/esm/api");
register();
await import(path.join(root, "apps/server/src/main.ts"));
