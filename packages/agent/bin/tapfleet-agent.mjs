#!/usr/bin/env node
// `npx tapfleet-agent` in the repository: runs the agent's bundle,
// dist/tapfleet-agent.mjs, and builds it first (src/build.ts, esbuild, offline,
// about a second) when it is missing or older than a source it bundles. The
// container image runs the bundle itself, without this launcher.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const bundle = path.join(packageRoot, "dist", "tapfleet-agent.mjs");
// What the bundle is made of: the agent's sources and the sensor contract's.
const sources = [path.join(packageRoot, "src"), path.join(packageRoot, "..", "sensor", "src")];

const args = process.argv.slice(2);
// `probe`, the readiness probe, is the one subcommand; the bundle reads it from process.argv.
if (args.length > 0 && !(args.length === 1 && args[0] === "probe")) {
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    const { version } = JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8"));
    process.stdout.write(
      [
        `tapfleet-agent ${version}: the capture agent every node runs.`,
        "",
        "Usage: tapfleet-agent          run the agent",
        "       tapfleet-agent probe    readiness: exit 0 when capturing and the collector accepted the",
        "                               last report, else 1 with the reason (the DaemonSet's exec probe)",
        "",
        "No command-line options: settings come from environment variables, read once at start",
        "(VSENSOR_HOSTNAME, VSENSOR_PORT, VSENSOR_HMAC_KEY, TAPFLEET_CLUSTER_ID, ...; every one in",
        "packages/sensor/README.md#settings). Capturing needs root (or CAP_NET_RAW and CAP_NET_ADMIN).",
        "How to run it against a local server: packages/agent/README.md.",
        "",
      ].join("\n"),
    );
    process.exit(0);
  }
  process.stderr.write(
    `tapfleet-agent: unknown argument ${JSON.stringify(args[0])}: the agent takes no command-line options but \`probe\` (settings come from the environment; see --help)\n`,
  );
  process.exit(2);
}

/** The newest modification time among the files under the given directories. */
function newestSource() {
  let newest = 0;
  for (const dir of sources) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.endsWith(".test.ts")) continue;
      newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource()) {
  process.stderr.write(`tapfleet-agent: building ${path.relative(process.cwd(), bundle) || bundle}\n`);
  const { tsImport } = await import("tsx/esm/api");
  const { buildAgentBundle } = await tsImport("../src/build.ts", import.meta.url);
  await buildAgentBundle(bundle);
}

await import(pathToFileURL(bundle).href);
