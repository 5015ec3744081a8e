// The server under test: `npm start`'s server with a fresh embedded database
// in the run's state directory and a known admin password. It also writes the
// procedure table (every tRPC procedure with its smallest role) for the
// role-refusal tests.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { register } from "tsx/esm/api";

const state = process.env.TAPFLEET_E2E_STATE;
if (!state) throw new Error("TAPFLEET_E2E_STATE is not set");
register();
const { listProcedures } = await import("../../packages/api/src/procedures.ts");
writeFileSync(path.join(state, "procedures.json"), JSON.stringify(listProcedures(), null, 2));

process.env.TAPFLEET_DATA_DIR = path.join(state, "data");
process.env.TAPFLEET_ADMIN_PASSWORD = "e2e-admin-password";
process.env.LOG_LEVEL ??= "warn";
process.on("exit", () => rmSync(process.env.TAPFLEET_DATA_DIR, { recursive: true, force: true }));
await import("../../apps/server/src/main.ts");
