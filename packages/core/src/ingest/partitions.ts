// Day partitions of the SensorReport table: created ahead of time, dropped
// whole when older than the retention.
import type { Db } from "@tapfleet/db";

const DAY_MS = 86_400_000;

function partitionName(day: Date): string {
  return `SensorReport_p${day.toISOString().slice(0, 10).replace(/-/g, "")}`;
}

function startOfUtcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

/** Creates the partitions for today and the next `daysAhead` days (idempotent). */
export async function ensureReportPartitions(options: {
  db: Db;
  now?: Date;
  daysAhead?: number;
}): Promise<string[]> {
  const today = startOfUtcDay(options.now ?? new Date());
  const created: string[] = [];
  for (let i = 0; i <= (options.daysAhead ?? 2); i++) {
    const from = new Date(today.getTime() + i * DAY_MS);
    const to = new Date(from.getTime() + DAY_MS);
    const name = partitionName(from);
    // Identifiers and bounds are generated here, never taken from input.
    const exists = await options.db.$queryRawUnsafe<{ one: number }[]>(
      `SELECT 1 AS one FROM pg_class WHERE relname = $1`,
      name,
    );
    if (exists.length > 0) continue;
    await options.db.$executeRawUnsafe(
      `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF "SensorReport" FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
    );
    created.push(name);
  }
  return created;
}

/** Drops day partitions that end before now − retention. Returns the dropped names. */
export async function dropExpiredReportPartitions(options: {
  db: Db;
  retentionDays: number;
  now?: Date;
}): Promise<string[]> {
  const cutoff = startOfUtcDay(
    new Date((options.now ?? new Date()).getTime() - options.retentionDays * DAY_MS),
  );
  const partitions = await options.db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'SensorReport' AND c.relname ~ '^SensorReport_p[0-9]{8}$'`,
  );
  const dropped: string[] = [];
  for (const { name } of partitions) {
    const digits = name.slice("SensorReport_p".length);
    const day = new Date(`${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}T00:00:00Z`);
    if (day.getTime() + DAY_MS <= cutoff.getTime()) {
      await options.db.$executeRawUnsafe(`DROP TABLE IF EXISTS "${name}"`);
      dropped.push(name);
    }
  }
  // Rows that fell into the default partition (clock far off) age out row by row.
  await options.db.$executeRawUnsafe(`DELETE FROM "SensorReport_default" WHERE "receivedAt" < $1`, cutoff);
  return dropped;
}
