// Stored rollups of the report table: minute and hour buckets per sensor and
// interface, advanced by the leader through a cursor over receivedAt (see
// docs/adr/0010-stats-rollups.md), and the reads that turn reports and
// rollups into the series a chart draws.
import type { Db } from "@tapfleet/db";
import { REPORT_INTERVAL_SECONDS } from "@tapfleet/sensor/settings";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { ZReportSummarySchema } from "../ingest/summary.ts";
import {
  addToBuckets,
  bucketDeltas,
  bucketStartOf,
  columnsOfBuckets,
  columnsOfDeltas,
  protocolTotals,
  RANGE_PLANS,
  ROLLUP_BUCKET_SECONDS,
  widenBuckets,
  ZStatsColumnsSchema,
  ZStatsRangeSchema,
  type Buckets,
  type StatsRange,
} from "./buckets.ts";
import { deltasOf, PROTOCOL_NAMES, type CounterSample, type InterfaceCounters } from "./rates.ts";

const CURSOR = "reports";
/** Reports are rolled up once they are this old: a report is written within moments of its receipt, on any replica. */
export const ROLLUP_LAG_MS = 30_000;
/** At most this much of the report table per transaction, so catching up after a pause stays in small steps. */
const ROLLUP_WINDOW_MS = 3600_000;
/** How far back to look for the report before a window (agents report at least once an hour). */
const PREVIOUS_LOOKBACK_MS = 2 * REPORT_INTERVAL_SECONDS.max * 1000;
/** A rollup read finishes its newest buckets from the reports, but from no more than this much of them. */
const MAX_RAW_TAIL_MS = 3600_000;

// ---------------------------------------------------------------------------
// Reading reports

interface ReportRow {
  sensorId: string;
  agentStartedAt: Date;
  sequence: bigint | number;
  receivedAt: Date;
  sentAt: Date;
  interfaces: unknown;
}

const ZStoredInterfacesSchema = z.array(
  z.object({
    name: z.string(),
    packets: z.number(),
    bytes: z.number(),
    kernelDrops: z.number(),
    interfaceDrops: z.number(),
    protocols: z.object(Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, z.number()]))).optional(),
  }),
);

function sampleOf(row: ReportRow, interfaceName: string | undefined): CounterSample {
  const parsed = ZStoredInterfacesSchema.safeParse(row.interfaces);
  // Reports were validated before they were stored; one that does not fit counts as capturing nothing.
  const interfaces = (parsed.success ? parsed.data : []) as InterfaceCounters[];
  return {
    runStartedAt: row.agentStartedAt.getTime(),
    sequence: Number(row.sequence),
    receivedAt: row.receivedAt.getTime(),
    sentAt: row.sentAt.getTime(),
    interfaces: interfaceName ? interfaces.filter((i) => i.name === interfaceName) : interfaces,
  };
}

const REPORT_COLUMNS = `"sensorId"::text AS "sensorId", "agentStartedAt", "sequence", "receivedAt", "sentAt",
  "report"->'interfaces' AS "interfaces"`;

/** Reports with receivedAt in [from, to), of one sensor or all, oldest first. */
async function readReports(options: {
  db: Db;
  sensorId?: string;
  from: Date;
  to: Date;
}): Promise<ReportRow[]> {
  return options.sensorId
    ? options.db.$queryRawUnsafe<ReportRow[]>(
        `SELECT ${REPORT_COLUMNS} FROM "SensorReport"
         WHERE "sensorId" = $1::uuid AND "receivedAt" >= $2 AND "receivedAt" < $3 ORDER BY "receivedAt", "id"`,
        options.sensorId,
        options.from,
        options.to,
      )
    : options.db.$queryRawUnsafe<ReportRow[]>(
        `SELECT ${REPORT_COLUMNS} FROM "SensorReport"
         WHERE "receivedAt" >= $1 AND "receivedAt" < $2 ORDER BY "sensorId", "receivedAt", "id"`,
        options.from,
        options.to,
      );
}

/** Each sensor's last report before `before` (within the lookback). */
async function readPreviousReports(options: {
  db: Db;
  sensorIds: readonly string[];
  before: Date;
}): Promise<Map<string, ReportRow>> {
  if (options.sensorIds.length === 0) return new Map();
  const rows = await options.db.$queryRawUnsafe<ReportRow[]>(
    `SELECT DISTINCT ON ("sensorId") ${REPORT_COLUMNS} FROM "SensorReport"
     WHERE "sensorId" = ANY($1::uuid[]) AND "receivedAt" >= $2 AND "receivedAt" < $3
     ORDER BY "sensorId", "receivedAt" DESC, "id" DESC`,
    options.sensorIds,
    new Date(options.before.getTime() - PREVIOUS_LOOKBACK_MS),
    options.before,
  );
  return new Map(rows.map((row) => [row.sensorId, row]));
}

/** The deltas of each sensor's reports in [from, to), the first one against the report before. */
async function readDeltas(options: {
  db: Db;
  sensorId?: string;
  interfaceName?: string | undefined;
  from: Date;
  to: Date;
}) {
  const rows = await readReports(options);
  const bySensor = new Map<string, ReportRow[]>();
  for (const row of rows) {
    const list = bySensor.get(row.sensorId);
    if (list) list.push(row);
    else bySensor.set(row.sensorId, [row]);
  }
  const previous = await readPreviousReports({
    db: options.db,
    sensorIds: [...bySensor.keys()],
    before: options.from,
  });
  return {
    reports: rows.length,
    deltas: new Map(
      [...bySensor].map(([sensorId, list]) => {
        const before = previous.get(sensorId);
        return [
          sensorId,
          deltasOf(
            list.map((row) => sampleOf(row, options.interfaceName)),
            before ? sampleOf(before, options.interfaceName) : null,
          ),
        ];
      }),
    ),
  };
}

// ---------------------------------------------------------------------------
// Maintaining the rollups

async function readCursor(db: Db): Promise<Date | null> {
  const rows = await db.$queryRawUnsafe<{ processedUntil: Date }[]>(
    `SELECT "processedUntil" FROM "StatsRollupCursor" WHERE "name" = $1`,
    CURSOR,
  );
  return rows[0]?.processedUntil ?? null;
}

const UPSERT_ROLLUPS = `
  INSERT INTO "SensorStatsRollup" ("sensorId", "bucketSeconds", "bucketStart", "interface", "seconds", "packets",
    "bytes", "kernelDrops", "interfaceDrops", "maxPacketsPerSecond", "maxBitsPerSecond", "maxDropsPerSecond",
    "ipv4", "ipv6", "tcp", "udp", "icmp", "other")
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[], $5::float8[], $6::bigint[], $7::bigint[],
    $8::bigint[], $9::bigint[], $10::float8[], $11::float8[], $12::float8[], $13::bigint[], $14::bigint[],
    $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[])
  ON CONFLICT ("sensorId", "bucketSeconds", "bucketStart", "interface") DO UPDATE SET
    "seconds" = r."seconds" + excluded."seconds",
    "packets" = r."packets" + excluded."packets",
    "bytes" = r."bytes" + excluded."bytes",
    "kernelDrops" = r."kernelDrops" + excluded."kernelDrops",
    "interfaceDrops" = r."interfaceDrops" + excluded."interfaceDrops",
    "maxPacketsPerSecond" = greatest(r."maxPacketsPerSecond", excluded."maxPacketsPerSecond"),
    "maxBitsPerSecond" = greatest(r."maxBitsPerSecond", excluded."maxBitsPerSecond"),
    "maxDropsPerSecond" = greatest(r."maxDropsPerSecond", excluded."maxDropsPerSecond"),
    "ipv4" = r."ipv4" + excluded."ipv4", "ipv6" = r."ipv6" + excluded."ipv6", "tcp" = r."tcp" + excluded."tcp",
    "udp" = r."udp" + excluded."udp", "icmp" = r."icmp" + excluded."icmp", "other" = r."other" + excluded."other"`.replace(
  `INSERT INTO "SensorStatsRollup"`,
  `INSERT INTO "SensorStatsRollup" AS r`,
);

function rollupParameters(
  sensorId: string,
  bucketSeconds: number,
  buckets: Buckets,
  into: unknown[][],
): void {
  for (const [start, byInterface] of buckets)
    for (const [name, t] of byInterface) {
      const values = [
        sensorId,
        bucketSeconds,
        new Date(start),
        name,
        t.seconds,
        String(t.packets),
        String(t.bytes),
        String(t.kernelDrops),
        String(t.interfaceDrops),
        t.maxPacketsPerSecond,
        t.maxBitsPerSecond,
        t.maxDropsPerSecond,
        ...PROTOCOL_NAMES.map((p) => String(t.protocols[p])),
      ];
      values.forEach((value, column) => into[column]!.push(value));
    }
}

/**
 * Rolls up the reports received since the last call, up to `now` − lag, one
 * window (an hour) per transaction, until caught up or `signal` aborts. The
 * cursor row is locked for each window and the rollups only ever add, so two
 * leaders for a moment (see ADR 0009) cannot count a report twice. Returns how
 * many reports it read and where the cursor stands.
 */
export async function advanceStatsRollups(options: {
  db: Db;
  now?: Date;
  signal?: AbortSignal;
}): Promise<{ reports: number; processedUntil: Date | null }> {
  const { db } = options;
  const until = new Date((options.now ?? new Date()).getTime() - ROLLUP_LAG_MS);
  let reports = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const step = await db.$transaction(
      async (tx) => {
        const locked = await tx.$queryRawUnsafe<{ processedUntil: Date }[]>(
          `SELECT "processedUntil" FROM "StatsRollupCursor" WHERE "name" = $1 FOR UPDATE`,
          CURSOR,
        );
        let start = locked[0]?.processedUntil;
        if (!start) {
          // The first run starts at the oldest stored report (or now, with none).
          const oldest = await tx.$queryRawUnsafe<{ at: Date | null }[]>(
            `SELECT min("receivedAt") AS at FROM "SensorReport"`,
          );
          start = new Date(bucketStartOf((oldest[0]?.at ?? until).getTime(), 60));
          await tx.$executeRawUnsafe(
            `INSERT INTO "StatsRollupCursor" ("name", "processedUntil") VALUES ($1, $2) ON CONFLICT DO NOTHING`,
            CURSOR,
            start,
          );
          return { done: false, read: 0, cursor: start };
        }
        const end = new Date(Math.min(start.getTime() + ROLLUP_WINDOW_MS, until.getTime()));
        if (end <= start) return { done: true, read: 0, cursor: start };
        const { deltas, reports: read } = await readDeltas({ db: tx as Db, from: start, to: end });
        const columns: unknown[][] = Array.from({ length: 18 }, () => []);
        for (const [sensorId, list] of deltas)
          for (const bucketSeconds of ROLLUP_BUCKET_SECONDS)
            rollupParameters(sensorId, bucketSeconds, bucketDeltas(list, bucketSeconds), columns);
        if (columns[0]!.length > 0) await tx.$executeRawUnsafe(UPSERT_ROLLUPS, ...columns);
        await tx.$executeRawUnsafe(
          `UPDATE "StatsRollupCursor" SET "processedUntil" = $2 WHERE "name" = $1`,
          CURSOR,
          end,
        );
        return { done: end.getTime() >= until.getTime(), read, cursor: end };
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
    reports += step.read;
    if (step.done) return { reports, processedUntil: step.cursor };
  }
  return { reports, processedUntil: await readCursor(db) };
}

/** Drops rollup buckets older than the report retention. */
export async function purgeStatsRollups(options: {
  db: Db;
  retentionDays: number;
  now?: Date;
}): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000);
  return options.db.$executeRawUnsafe(`DELETE FROM "SensorStatsRollup" WHERE "bucketStart" < $1`, cutoff);
}

// ---------------------------------------------------------------------------
// Reading series

export const ZProtocolCountsSchema = z.object(
  Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, z.number()])) as Record<
    (typeof PROTOCOL_NAMES)[number],
    z.ZodNumber
  >,
);

export const STATS_RESOLUTIONS = ["report", "1m", "5m", "1h"] as const;

/** A sensor's rates over a range: the one definition the API declares and the dashboard draws. */
export const ZStatsSeriesSchema = z.object({
  sensorId: z.string(),
  range: ZStatsRangeSchema,
  from: z.string(),
  to: z.string(),
  /** `report`: a point per report; otherwise one per bucket of that width. */
  resolution: z.enum(STATS_RESOLUTIONS),
  /** The bucket width in seconds; null for a point per report. */
  stepSeconds: z.number().nullable(),
  /** What was read: the reports themselves, or the rollups (finished from the newest reports). */
  source: z.enum(["reports", "rollups"]),
  /** How often the agent said it reports (the default when it did not say). */
  reportIntervalSeconds: z.number(),
  timestamps: ZStatsColumnsSchema.shape.timestamps,
  interfaces: ZStatsColumnsSchema.shape.interfaces,
  /** Packets by protocol over the range (network layers ipv4 + ipv6; transports tcp, udp, icmp, other). */
  protocols: ZProtocolCountsSchema,
});
export type StatsSeries = z.infer<typeof ZStatsSeriesSchema>;

const RESOLUTION_OF_STEP: Record<number, StatsSeries["resolution"]> = { 60: "1m", 300: "5m", 3600: "1h" };

interface RollupRow {
  bucketStart: Date;
  interface: string;
  seconds: number;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  maxPacketsPerSecond: number;
  maxBitsPerSecond: number;
  maxDropsPerSecond: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  icmp: number;
  other: number;
}

async function readSensorInterval(db: Db, sensorId: string): Promise<number> {
  const sensor = await db.sensor.findUnique({ where: { id: sensorId }, select: { lastSummary: true } });
  if (!sensor) throw new AppError("NOT_FOUND", { userMessage: `There is no sensor ${sensorId}.` });
  const summary = ZReportSummarySchema.safeParse(sensor.lastSummary);
  return (summary.success ? summary.data.reportIntervalSeconds : null) ?? REPORT_INTERVAL_SECONDS.default;
}

/**
 * A sensor's packets/s, bits/s and drops/s per interface over `range`, at the
 * resolution the range is planned with (RANGE_PLANS), and its protocol mix.
 * Ranges past 15 minutes read the rollups up to their cursor and the reports
 * after it, so the newest buckets are complete as well.
 */
export async function readStatsSeries(options: {
  db: Db;
  sensorId: string;
  range: StatsRange;
  interfaceName?: string | undefined;
  now?: Date;
}): Promise<StatsSeries> {
  const { db, sensorId, range, interfaceName } = options;
  const now = options.now ?? new Date();
  const plan = RANGE_PLANS[range];
  const from = new Date(now.getTime() - plan.rangeSeconds * 1000);
  const reportIntervalSeconds = await readSensorInterval(db, sensorId);
  const head = { sensorId, range, from: from.toISOString(), to: now.toISOString(), reportIntervalSeconds };

  if (plan.rollup === null) {
    const { deltas } = await readDeltas({
      db,
      sensorId,
      interfaceName,
      from,
      to: new Date(now.getTime() + 1),
    });
    const list = deltas.get(sensorId) ?? [];
    return {
      ...head,
      resolution: "report",
      stepSeconds: null,
      source: "reports",
      ...columnsOfDeltas(list, 3 * reportIntervalSeconds * 1000),
      protocols: protocolTotals(bucketDeltas(list, 60)),
    };
  }

  const step = plan.stepSeconds;
  const firstBucket = new Date(bucketStartOf(from.getTime(), step));
  const cursor = (await readCursor(db)) ?? firstBucket;
  const rollupUntil = new Date(Math.max(firstBucket.getTime(), Math.min(cursor.getTime(), now.getTime())));
  const rows = await db.$queryRawUnsafe<RollupRow[]>(
    `SELECT "bucketStart", "interface", "seconds", "packets"::float8 AS "packets", "bytes"::float8 AS "bytes",
            "kernelDrops"::float8 AS "kernelDrops", "interfaceDrops"::float8 AS "interfaceDrops",
            "maxPacketsPerSecond", "maxBitsPerSecond", "maxDropsPerSecond",
            "ipv4"::float8 AS "ipv4", "ipv6"::float8 AS "ipv6", "tcp"::float8 AS "tcp", "udp"::float8 AS "udp",
            "icmp"::float8 AS "icmp", "other"::float8 AS "other"
     FROM "SensorStatsRollup"
     WHERE "sensorId" = $1::uuid AND "bucketSeconds" = $2 AND "bucketStart" >= $3 AND "bucketStart" < $4
       AND ($5::text IS NULL OR "interface" = $5)`,
    sensorId,
    plan.rollup,
    firstBucket,
    rollupUntil,
    interfaceName ?? null,
  );
  let buckets: Buckets = new Map();
  for (const row of rows)
    addToBuckets(buckets, row.bucketStart.getTime(), row.interface, {
      ...row,
      protocols: {
        ipv4: row.ipv4,
        ipv6: row.ipv6,
        tcp: row.tcp,
        udp: row.udp,
        icmp: row.icmp,
        other: row.other,
      },
    });
  // The reports the rollups have not reached yet, into the same buckets.
  const tailFrom = new Date(Math.max(rollupUntil.getTime(), now.getTime() - MAX_RAW_TAIL_MS));
  if (tailFrom < now) {
    const { deltas } = await readDeltas({
      db,
      sensorId,
      interfaceName,
      from: tailFrom,
      to: new Date(now.getTime() + 1),
    });
    bucketDeltas(deltas.get(sensorId) ?? [], plan.rollup, buckets);
  }
  if (step !== plan.rollup) buckets = widenBuckets(buckets, step);
  for (const start of buckets.keys()) if (start < firstBucket.getTime()) buckets.delete(start);
  return {
    ...head,
    resolution: RESOLUTION_OF_STEP[step]!,
    stepSeconds: step,
    source: "rollups",
    ...columnsOfBuckets(buckets, step),
    protocols: protocolTotals(buckets),
  };
}
