// Builds the dashboard when its build is missing or older than its sources.
// Shared by `npm start` and `npm test`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const webDir = path.join(root, "apps/web");
const buildId = path.join(webDir, ".next/BUILD_ID");
const sources = [webDir, path.join(root, "packages/api/src"), path.join(root, "packages/sensor/src")];

/** Newest modification time under the given directories, skipping build output. */
function newestSource(dirs) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === ".next" || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) walk(dir);
  return newest;
}

/** Returns false when the build failed (its output has been shown). */
export function ensureDashboardBuilt({ log = (m) => process.stdout.write(m) } = {}) {
  if (existsSync(buildId) && newestSource(sources) <= statSync(buildId).mtimeMs) return true;
  log("Building the dashboard (once, or after its sources change)…\n");
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: webDir,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) return false;
  log(`Dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return true;
}
