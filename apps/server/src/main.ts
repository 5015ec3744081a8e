import "./heap.ts";
import { loadServerEnv } from "./env.ts";
import { createLogger, startServer } from "./start.ts";

async function main(): Promise<void> {
  const env = loadServerEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const server = await startServer({ env, logger });
  let firstSignalAt: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      // A Ctrl-C under npm arrives twice at once (from the terminal and relayed by
      // npm); only a later, deliberate second signal forces the exit.
      if (Date.now() - firstSignalAt < 2000) return;
      logger.warn("second signal: exiting without waiting");
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, "shutting down");
    server.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  // One clear line for the operator; the cause chain follows for debugging.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tapfleet: ${message}\n`);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
  if (cause && !message.includes(cause)) process.stderr.write(`  cause: ${cause}\n`);
  process.exitCode = 1;
});
