import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { checkDatabaseConnection, DatabaseUnreachableError } from "./connection.ts";
import { startEmbeddedPostgres } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";
import { MIGRATIONS_DIR } from "./testing.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), "tapfleet-embedded-"));
  dirs.push(dir);
  return dir;
}
async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL", () => {
  it("keeps data across a stop and a second start, and applies migrations once", async () => {
    const dir = await tempDir();
    const first = await startEmbeddedPostgres({ dir });
    expect(first.created).toBe(true);
    expect(await applyMigrations({ url: first.url, migrationsDir: MIGRATIONS_DIR })).not.toHaveLength(0);
    await query(
      first.url,
      `INSERT INTO "LoginAttempt" (username, ip, success) VALUES ('kept', '127.0.0.1', true)`,
    );
    await first.stop();

    const second = await startEmbeddedPostgres({ dir });
    expect(second.created).toBe(false);
    expect(await applyMigrations({ url: second.url, migrationsDir: MIGRATIONS_DIR })).toEqual([]);
    expect(await query(second.url, `SELECT username FROM "LoginAttempt"`)).toEqual([{ username: "kept" }]);
    await second.stop();
  });

  it("recovers from a stale postmaster.pid whose process is gone", async () => {
    const dir = await tempDir();
    const first = await startEmbeddedPostgres({ dir });
    await first.stop();
    const pidFile = path.join(dir, "pg", "postmaster.pid");
    // A pid that cannot be a live PostgreSQL: a process that already exited.
    const child = spawn("true");
    await new Promise((resolve) => child.on("exit", resolve));
    await writeFile(pidFile, `${child.pid}\n${path.join(dir, "pg")}\n`);
    const second = await startEmbeddedPostgres({ dir });
    expect(await query(second.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    await second.stop();
  });

  it("stops an orphaned server left by a killed parent, then starts", async () => {
    const dir = await tempDir();
    const script = `
      import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve(import.meta.dirname, "embedded.ts"))};
      const pg = await startEmbeddedPostgres({ dir: ${JSON.stringify(dir)} });
      console.log("READY " + pg.port);
      setInterval(() => {}, 1000);
    `;
    const orphanParent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      orphanParent.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("READY") && resolve());
      orphanParent.on("exit", (code) => reject(new Error(`parent exited early with ${code}`)));
    });
    orphanParent.kill("SIGKILL");
    await new Promise((resolve) => orphanParent.on("exit", resolve));
    const pidFile = path.join(dir, "pg", "postmaster.pid");
    const orphanPid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
    expect(existsSync(`/proc/${orphanPid}`)).toBe(true);

    const again = await startEmbeddedPostgres({ dir });
    expect(existsSync(`/proc/${orphanPid}`)).toBe(false);
    expect(await query(again.url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    await again.stop();
  });

  it("refuses to start on a data directory another running server is using, leaving that server alone", async () => {
    const dir = await tempDir();
    const script = `
      import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve(import.meta.dirname, "embedded.ts"))};
      const pg = await startEmbeddedPostgres({ dir: ${JSON.stringify(dir)} });
      console.log("READY " + pg.url);
      process.on("SIGTERM", () => pg.stop().then(() => process.exit(0)));
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      owner.stdout.on("data", (chunk: Buffer) => {
        const match = /READY (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      owner.on("exit", (code) => reject(new Error(`owner exited early with ${code}`)));
    });
    const error = await startEmbeddedPostgres({ dir }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^another Tapfleet server \\(pid ${owner.pid}\\) is using `),
    );
    expect(await query(url, "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    owner.kill("SIGTERM");
    await new Promise((resolve) => owner.on("exit", resolve));
  });

  it("names the host when the server cannot be reached", async () => {
    const error = await checkDatabaseConnection({
      url: "postgresql://u:secret@127.0.0.1:1/db",
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as Error).message).toMatch(/^cannot reach the PostgreSQL server at 127\.0\.0\.1:1: /);
    expect((error as Error).message).not.toContain("secret");
  });
});
