// A real PostgreSQL server for tests: embedded, on a free port, in a
// throw-away directory, migrated. Tests call `createTestDatabase()` per file
// (or share one through a global setup) and `reset()` between cases.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../../prisma/migrations");

export interface TestDatabase {
  url: string;
  /** Empties every application table (keeps the migration history). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(tmpdir(), "tapfleet-test-db-"));
  const server = await startEmbeddedPostgres({ dir });
  await applyMigrations({ url: server.url, migrationsDir: MIGRATIONS_DIR });
  return {
    url: server.url,
    reset: () => truncateAll(server.url),
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function truncateAll(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'",
    );
    if (rows.length > 0)
      await client.query(
        `TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`,
      );
  } finally {
    await client.end();
  }
}
