export { createDb, createPgPool, type Db, type PgPool, type PgPoolClient } from "./client.ts";
export { createLiveBus, LIVE_BUS_MAX_PAYLOAD, type LiveBus, type LiveMessage } from "./bus.ts";
export { checkDatabaseConnection, DatabaseUnreachableError, describeDatabaseHost } from "./connection.ts";
export * from "./generated/enums.ts";
export type { ApiToken, AuditEvent, LoginAttempt, Session, User } from "./generated/client.ts";
export { Prisma } from "./generated/client.ts";
export {
  LEADER_LOCK_APPLICATION_NAME,
  LEADER_LOCK_KEY,
  startLeaderLock,
  type LeaderLock,
  type LeaderLockOptions,
} from "./leader-lock.ts";
