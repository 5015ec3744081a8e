// Creates a new migration from the change to prisma/schema.prisma since the
// last migration: `npm run db:migration -- <name>`.
// The schema as of the last migration is kept in prisma/migrations/schema.snapshot.prisma,
// so the diff is schema file → schema file (diffing a live database is not
// supported by the WASM engine). A scratch embedded PostgreSQL gives the
// engine the connection it insists on.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../packages/db/src/embedded.ts";
import { diffSchemas } from "../packages/db/src/migrate.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name>   (name: lower-case letters, digits and _)");
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, "..");
const migrationsDir = path.join(root, "prisma/migrations");
const snapshotPath = path.join(migrationsDir, "schema.snapshot.prisma");
const schema = await readFile(path.join(root, "prisma/schema.prisma"), "utf8");
const previous = existsSync(snapshotPath) ? await readFile(snapshotPath, "utf8") : null;

const scratch = await mkdtemp(path.join(tmpdir(), "tapfleet-migration-"));
const pg = await startEmbeddedPostgres({ dir: scratch });
try {
  const sql = await diffSchemas({ url: pg.url, from: previous, to: schema });
  if (!sql.trim() || /^-- This is an empty migration/.test(sql.trim())) {
    console.log("schema unchanged: no migration written");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "migration.sql"), sql);
    await writeFile(snapshotPath, schema);
    if (!existsSync(path.join(migrationsDir, "migration_lock.toml")))
      await writeFile(path.join(migrationsDir, "migration_lock.toml"), 'provider = "postgresql"\n');
    console.log(`wrote ${path.relative(root, dir)}/migration.sql`);
  }
} finally {
  await pg.stop();
  await rm(scratch, { recursive: true, force: true });
}
