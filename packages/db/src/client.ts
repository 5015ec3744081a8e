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
 */
export function createPgPool(options: { url: string; max?: number }): PgPool {
  return new pg.Pool({ connectionString: options.url, max: options.max ?? 4 });
}
