#!/usr/bin/env node
// tapfleet-agent: settings come from the environment only (the osSensor's
// contract), so there are no command-line options.
import { runAgent } from "./agent.ts";
import { readEnv } from "./env.ts";

runAgent({ env: readEnv() })
  .then((code) => {
    process.exitCode = code;
    // Capture handles and sockets are closed; anything left (a stalled request) must not keep a stopped pod alive.
    setTimeout(() => process.exit(code), 2000).unref();
  })
  .catch((error: unknown) => {
    process.stderr.write(
      `tapfleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
