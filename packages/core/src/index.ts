export * from "./actor.ts";
export * from "./errors.ts";
export * from "./roles.ts";
export * from "./auth/login.ts";
export * from "./auth/passwords.ts";
export * from "./auth/sessions.ts";
export * from "./auth/authorize.ts";
export * from "./users/users.ts";
export * from "./tokens/tokens.ts";
export * from "./audit/audit.ts";
export * from "./live/topics.ts";
// The handles that callers pass into core functions; re-exported so layers
// above core never import the database package.
export type { Db, LiveBus } from "@tapfleet/db";
export * from "./secrets.ts";
export * from "./clusters/clusters.ts";
export * from "./ingest/gateway.ts";
export * from "./ingest/nonces.ts";
export * from "./ingest/partitions.ts";
export * from "./ingest/pcap.ts";
export * from "./ingest/sensors.ts";
export * from "./sensors/status.ts";
export * from "./antigena/actions.ts";
export * from "./antigena/action-gateway.ts";
export * from "./inventory/index.ts";
export * from "./stats/index.ts";
export * from "./debug-level/index.ts";
export * from "./profiles/index.ts";
export * from "./sensor-install/sensor-install.ts";
