import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client.ts";

export type Db = PrismaClient;

/**
 * Connections of the Prisma client's pool (node-postgres, through the driver
 * adapter). Everything but the ingest writer (its own pool of 4), the
 * inventory batches (2), the leader lock (1) and the live bus (1) queues here:
 * API requests, and on the leader the rollouts runner (up to 64 clusters
 * stepped at once), the inventory's rounds and status writes, drift, debug
 * levels and rollups. With 10, a rollout of 50 clusters filled it while the
 * inventory relisted, and a transaction waited past its 2 s. 16 per replica
 * (24 connections with the other pools) leaves room for four replicas under
 * PostgreSQL's default of 100; more would not help on a machine of few cores,
 * where the statements wait for the CPU rather than for a connection. A
 * transaction that may wait longer for one says so with its own maxWait.
 */
export const DB_POOL_SIZE = 16;

/**
 * Creates the Prisma client. Call once per process (the server does it at
 * start-up) and pass it down; never at import time, which would break `next build`.
 */
export function createDb(options: {
  url: string;
  maxConnections?: number;
  /** Hears every statement sent (tests that hold a path to its number of statements). */
  onQuery?: (event: { query: string; durationMs: number }) => void;
}): Db {
  const adapter = new PrismaPg({
    connectionString: options.url,
    max: options.maxConnections ?? DB_POOL_SIZE,
  });
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  client.$on("query", (event) => onQuery({ query: event.query, durationMs: event.duration }));
  return client;
}

export type { PoolClient as PgPoolClient } from "pg";
export type PgPool = pg.Pool;

/**
 * A plain node-postgres pool, for hot paths where a batched statement beats
 * Prisma's per-query overhead (the ingest writer).
 *
 * An idle connection that the database ends (a restart, a failover,
 * `pg_terminate_backend`) makes the pool emit `error`; unheard, that event
 * would end the process. The pool drops such a connection by itself, so the
 * caller only needs to hear about it.
 */
export function createPgPool(options: {
  url: string;
  max?: number;
  onError: (error: Error) => void;
}): PgPool {
  const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 4 });
  pool.on("error", options.onError);
  return pool;
}
