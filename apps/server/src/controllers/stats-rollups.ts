// Keeps the stats rollups current: every half minute the leader rolls up the
// reports received since the last run (see docs/adr/0010-stats-rollups.md)
// and drops buckets past the report retention.

import { advanceStatsRollups, purgeStatsRollups, type Db } from "@tapfleet/core";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import { createPeriodicController, type Controller } from "./controller.ts";

export const STATS_ROLLUP_INTERVAL_MS = 30_000;

export function createStatsRollupsController(options: {
  db: Db;
  retentionDays: number;
  logger: Logger;
  clock?: Clock;
}): Controller {
  const { db, logger } = options;
  return createPeriodicController({
    name: "stats-rollups",
    runsOn: "leader",
    intervalMs: STATS_ROLLUP_INTERVAL_MS,
    clock: options.clock,
    tick: async (signal) => {
      const started = Date.now();
      const { reports } = await advanceStatsRollups({ db, signal });
      if (reports > 0) logger.debug({ reports, ms: Date.now() - started }, "rolled up reports");
      await purgeStatsRollups({ db, retentionDays: options.retentionDays });
    },
    onError: (error) => logger.warn({ err: error }, "stats rollups failed"),
  });
}
