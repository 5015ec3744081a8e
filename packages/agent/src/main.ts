#!/usr/bin/env node
// tapfleet-agent: settings come from the environment only (the osSensor's
// contract), so there are no command-line options. One subcommand: `probe`,
// the readiness probe, which must start fast: the agent itself is loaded only
// when it is the agent that runs (the bundle evaluates a dynamically imported
// module only when it is imported).
import { readEnv } from "./env.ts";
import { runProbe } from "./probe.ts";

const fail = (error: unknown): void => {
  process.stderr.write(
    `tapfleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
  // A capture thread or a socket left open must not keep a failed agent alive (a pod Running, never Ready).
  setTimeout(() => process.exit(1), 2000).unref();
};

if (process.argv[2] === "probe") {
  runProbe({ env: readEnv() })
    .then((code) => {
      process.exitCode = code;
    })
    .catch(fail);
} else {
  import("./agent.ts")
    .then(({ runAgent }) => runAgent({ env: readEnv() }))
    .then((code) => {
      process.exitCode = code;
      // Capture handles and sockets are closed; anything left (a stalled request) must not keep a stopped pod alive.
      setTimeout(() => process.exit(code), 2000).unref();
    })
    .catch(fail);
}
