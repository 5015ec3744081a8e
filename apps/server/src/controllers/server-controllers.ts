// The server's controllers. Each is a purge or maintenance of the shared
// database, so each runs on the leader only: one replica does it for all.

import {
  dropExpiredReportPartitions,
  ensureReportPartitions,
  expireSensorActions,
  purgeExpiredNonces,
  purgeExpiredSessions,
  purgeOldLoginAttempts,
  type Db,
  type LiveBus,
  type SessionPolicy,
} from "@tapfleet/core";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import { createPeriodicController, type Controller } from "./controller.ts";
import { createStatsRollupsController } from "./stats-rollups.ts";

/**
 * Creates the coming days' report partitions, drops those past retention and
 * purges expired ingest nonces. Every replica runs it once at start (ingest
 * needs today's partition); afterwards the leader runs it hourly.
 */
export async function maintainReports(options: {
  db: Db;
  retentionDays: number;
  logger: Logger;
}): Promise<void> {
  const { db, logger } = options;
  await ensureReportPartitions({ db });
  const dropped = await dropExpiredReportPartitions({ db, retentionDays: options.retentionDays });
  if (dropped.length > 0) logger.info({ dropped }, "dropped expired report partitions");
  await purgeExpiredNonces({ db });
}

export function createServerControllers(options: {
  db: Db;
  bus: LiveBus;
  sessionPolicy: SessionPolicy;
  retentionDays: number;
  logger: Logger;
  clock?: Clock;
}): Controller[] {
  const { db, logger, clock } = options;
  return [
    createPeriodicController({
      name: "housekeeping",
      runsOn: "leader",
      intervalMs: 10 * 60_000,
      clock,
      tick: async () => {
        await Promise.all([
          purgeExpiredSessions({ db, policy: options.sessionPolicy }),
          purgeOldLoginAttempts({ db }),
        ]);
      },
      onError: (error) => logger.warn({ err: error }, "housekeeping failed"),
    }),
    createPeriodicController({
      name: "report-maintenance",
      runsOn: "leader",
      intervalMs: 3600_000,
      clock,
      tick: () => maintainReports({ db, retentionDays: options.retentionDays, logger }),
      onError: (error) => logger.warn({ err: error }, "report partition maintenance failed"),
    }),
    createStatsRollupsController({ db, retentionDays: options.retentionDays, logger, clock }),
    // Response actions nobody picked up or finished: closed (and audited) even when no one looks.
    createPeriodicController({
      name: "action-expiry",
      runsOn: "leader",
      intervalMs: 30_000,
      clock,
      tick: async () => {
        await expireSensorActions({ db, bus: options.bus });
      },
      onError: (error) => logger.warn({ err: error }, "expiring response actions failed"),
    }),
  ];
}
