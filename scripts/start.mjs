#!/usr/bin/env node
// `npm start`: builds the dashboard when needed, then runs the server in this
// very process (signals reach it directly; one PID to stop).
import path from "node:path";
import { ensureDashboardBuilt, root } from "./build-web.mjs";

const serveDashboard = !/^(false|0|no)$/i.test(process.env.TAPFLEET_SERVE_DASHBOARD ?? "true");
if (serveDashboard && !process.env.TAPFLEET_WEB_DIR && !ensureDashboardBuilt()) {
  process.stderr.write("tapfleet: building the dashboard failed (see above)\n");
  process.exit(1);
}

const { register } = await import("tsx/esm/api");
register();
await import(path.join(root, "apps/server/src/main.ts"));
