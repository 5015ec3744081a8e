import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client.ts";

export type Db = PrismaClient;

/**
 * Creates the Prisma client. Call once per process (the server does it at
 * start-up) and pass it down; never at import time, which would break `next build`.
 */
export function createDb(options: { url: string; maxConnections?: number }): Db {
  const adapter = new PrismaPg({ connectionString: options.url, max: options.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
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
