import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgPool } from "./client.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.stop();
});

describe("createPgPool", () => {
  it("hears an idle connection that the database ends, instead of letting it end the process, and goes on", async () => {
    const heard: Error[] = [];
    let resolveHeard!: () => void;
    const errorHeard = new Promise<void>((resolve) => (resolveHeard = resolve));
    const pool = createPgPool({
      url: database.url,
      max: 1,
      onError: (error) => {
        heard.push(error);
        resolveHeard();
      },
    });
    try {
      const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const pid = rows[0]!.pid;
      // The pooled connection is idle now; end it from another session, as a restart would.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await admin.end();
      await errorHeard;
      expect(heard[0]?.message).toMatch(/terminating connection/);
      // The pool replaced the lost connection.
      const again = await pool.query<{ one: number }>("SELECT 1 AS one");
      expect(again.rows[0]?.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
