// A sensor's rates as its reports arrive: the live topic's summaries, each
// against the one before, by the same rule as the stored series.
import { Prisma, type Db, type LiveBus } from "@tapfleet/db";
import { REPORT_INTERVAL_SECONDS } from "@tapfleet/sensor/settings";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { STATS_TOPIC, ZReportSummarySchema, type ReportSummary } from "../ingest/summary.ts";
import { subscribeTopic } from "../live/topics.ts";
import { deltaBetween, ratesOf, type CounterSample } from "./rates.ts";

/** One live point: the rates of each interface over the interval a report ends. */
export const ZStatsPointSchema = z.object({
  sensorId: z.string(),
  /** Epoch seconds of the report's receipt, as the series' timestamps. */
  timestamp: z.number(),
  /** The interval the rates are over. */
  seconds: z.number(),
  reportIntervalSeconds: z.number().nullable(),
  interfaces: z.array(
    z.object({
      name: z.string(),
      packetsPerSecond: z.number(),
      bitsPerSecond: z.number(),
      dropsPerSecond: z.number(),
    }),
  ),
});
export type StatsPoint = z.infer<typeof ZStatsPointSchema>;

function sampleOfSummary(summary: ReportSummary): CounterSample {
  return {
    runStartedAt: summary.agentStartedAt ? Date.parse(summary.agentStartedAt) : null,
    sequence: summary.sequence,
    receivedAt: Date.parse(summary.receivedAt),
    sentAt: Date.parse(summary.sentAt),
    interfaces: summary.interfaces,
  };
}

/** The point a summary makes after the one before it, or null when they are not of one run. */
export function statsPointOf(previous: ReportSummary | null, current: ReportSummary): StatsPoint | null {
  const delta = deltaBetween(previous ? sampleOfSummary(previous) : null, sampleOfSummary(current));
  if (!delta) return null;
  return {
    sensorId: current.sensorId,
    timestamp: delta.receivedAt / 1000,
    seconds: delta.seconds,
    reportIntervalSeconds: current.reportIntervalSeconds,
    interfaces: ratesOf(delta),
  };
}

/**
 * The live points of one sensor until `signal` aborts. Subscribes before it
 * reads the sensor's latest summary, so the first report after the call is
 * measured against the one before it and none is missed.
 */
export async function* followStatsPoints(options: {
  db: Db;
  bus: LiveBus;
  sensorId: string;
  signal?: AbortSignal;
}): AsyncGenerator<StatsPoint> {
  const summaries = subscribeTopic(options.bus, STATS_TOPIC, options.signal);
  const sensor = await options.db.sensor.findUnique({
    where: { id: options.sensorId },
    select: { lastSummary: true },
  });
  if (!sensor) throw new AppError("NOT_FOUND", { userMessage: `There is no sensor ${options.sensorId}.` });
  const stored = ZReportSummarySchema.safeParse(sensor.lastSummary);
  let previous: ReportSummary | null = stored.success ? stored.data : null;
  for await (const summary of summaries) {
    if (summary.sensorId !== options.sensorId) continue;
    // Across replicas reports can arrive out of order: an older one is not a new interval.
    if (previous && Date.parse(summary.receivedAt) <= Date.parse(previous.receivedAt)) continue;
    const point = statsPointOf(previous, summary);
    previous = summary;
    if (point) yield point;
  }
}

/** A live point of one sensor of a cluster, named by cluster and node for pages that show many sensors. */
export const ZClusterStatsPointSchema = ZStatsPointSchema.extend({
  clusterId: z.string(),
  nodeName: z.string(),
});
export type ClusterStatsPoint = z.infer<typeof ZClusterStatsPointSchema>;

/**
 * The live points of every sensor (of one cluster, or of the fleet) until
 * `signal` aborts: each report measured against the same sensor's report
 * before it, by the same rule as one sensor's points. Subscribes before it
 * reads the sensors' latest summaries, so no report after the call is missed.
 */
export async function* followClusterStatsPoints(options: {
  db: Db;
  bus: LiveBus;
  clusterId?: string | undefined;
  signal?: AbortSignal;
}): AsyncGenerator<ClusterStatsPoint> {
  const summaries = subscribeTopic(options.bus, STATS_TOPIC, options.signal);
  const sensors = await options.db.sensor.findMany({
    where: options.clusterId === undefined ? {} : { clusterId: options.clusterId },
    select: { id: true, lastSummary: true },
  });
  const previous = new Map<string, ReportSummary>();
  for (const sensor of sensors) {
    const stored = ZReportSummarySchema.safeParse(sensor.lastSummary);
    if (stored.success) previous.set(sensor.id, stored.data);
  }
  for await (const summary of summaries) {
    if (options.clusterId !== undefined && summary.clusterId !== options.clusterId) continue;
    const before = previous.get(summary.sensorId) ?? null;
    if (before && Date.parse(summary.receivedAt) <= Date.parse(before.receivedAt)) continue;
    previous.set(summary.sensorId, summary);
    const point = statsPointOf(before, summary);
    if (point) yield { ...point, clusterId: summary.clusterId, nodeName: summary.nodeName };
  }
}

/** A sensor whose last report is older than three of the longest intervals has no current rate. */
const LATEST_WINDOW_MS = 3 * REPORT_INTERVAL_SECONDS.max * 1000;
/** How far before its last report a sensor's report before may lie (as the rollups look back). */
const PREVIOUS_LOOKBACK_MS = 2 * REPORT_INTERVAL_SECONDS.max * 1000;

const ZStoredCountersSchema = z.array(
  z.object({
    name: z.string(),
    packets: z.number(),
    bytes: z.number(),
    kernelDrops: z.number(),
    interfaceDrops: z.number(),
  }),
);

interface LatestReportRow {
  sensorId: string;
  clusterId: string;
  nodeName: string;
  reportIntervalSeconds: number | null;
  agentStartedAt: Date;
  sequence: bigint | number;
  receivedAt: Date;
  sentAt: Date;
  interfaces: unknown;
}

function sampleOfRow(row: LatestReportRow): CounterSample {
  const parsed = ZStoredCountersSchema.safeParse(row.interfaces);
  return {
    runStartedAt: row.agentStartedAt.getTime(),
    sequence: Number(row.sequence),
    receivedAt: row.receivedAt.getTime(),
    sentAt: row.sentAt.getTime(),
    // Reports were validated before they were stored; one that does not fit counts as capturing nothing.
    interfaces: parsed.success ? parsed.data : [],
  };
}

/**
 * Each sensor's latest known point (of one cluster, or of the fleet), from the stored reports:
 * its last report measured against the one before, by the same rule as the live points. What a
 * page shows from its first render, before the next report arrives on the live stream. Sensors
 * that have not reported within three of the longest report intervals have none.
 */
export async function listLatestStatsPoints(options: {
  db: Db;
  clusterId?: string | undefined;
  now?: Date;
}): Promise<ClusterStatsPoint[]> {
  const since = new Date((options.now ?? new Date()).getTime() - LATEST_WINDOW_MS);
  const rows = await options.db.$queryRaw<LatestReportRow[]>(Prisma.sql`
    SELECT s."id"::text AS "sensorId", s."clusterId", s."nodeName",
      (s."lastSummary"->>'reportIntervalSeconds')::float8 AS "reportIntervalSeconds",
      r."agentStartedAt", r."sequence", r."receivedAt", r."sentAt", r."interfaces"
    FROM "Sensor" s
    CROSS JOIN LATERAL (
      SELECT "agentStartedAt", "sequence", "receivedAt", "sentAt", "report"->'interfaces' AS "interfaces"
      FROM "SensorReport"
      WHERE "sensorId" = s."id" AND "receivedAt" >= s."lastSeenAt" - ${PREVIOUS_LOOKBACK_MS}::int * interval '1 millisecond'
      ORDER BY "receivedAt" DESC, "id" DESC
      LIMIT 2
    ) r
    WHERE s."lastSeenAt" >= ${since}
      ${options.clusterId === undefined ? Prisma.empty : Prisma.sql`AND s."clusterId" = ${options.clusterId}`}
    ORDER BY s."id", r."receivedAt" ASC`);
  const bySensor = new Map<string, LatestReportRow[]>();
  for (const row of rows) bySensor.set(row.sensorId, [...(bySensor.get(row.sensorId) ?? []), row]);
  const points: ClusterStatsPoint[] = [];
  for (const reports of bySensor.values()) {
    const current = reports.at(-1)!;
    const previous = reports.length > 1 ? reports[0]! : null;
    const delta = deltaBetween(previous ? sampleOfRow(previous) : null, sampleOfRow(current));
    if (!delta) continue;
    points.push({
      sensorId: current.sensorId,
      clusterId: current.clusterId,
      nodeName: current.nodeName,
      timestamp: delta.receivedAt / 1000,
      seconds: delta.seconds,
      reportIntervalSeconds: current.reportIntervalSeconds,
      interfaces: ratesOf(delta),
    });
  }
  return points;
}
