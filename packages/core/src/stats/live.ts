// A sensor's rates as its reports arrive: the live topic's summaries, each
// against the one before, by the same rule as the stored series.
import type { Db, LiveBus } from "@tapfleet/db";
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
