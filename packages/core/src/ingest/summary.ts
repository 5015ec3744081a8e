// What a stored report looks like in lists and on the live bus: totals and
// per-interface counters, small enough for one NOTIFY.
import { CHUNK_DROP_REASONS, REPORT_DROP_REASONS, type StatsReport } from "@tapfleet/sensor";
import { z } from "zod";
import { defineTopic } from "../live/topics.ts";

/**
 * The one definition of a report summary: the live topic parses with it, the
 * API declares it as output, and the type is inferred from it. Defaults cover
 * summaries stored before a field existed.
 */
export const ZReportSummarySchema = z.object({
  sensorId: z.string(),
  clusterId: z.string(),
  nodeName: z.string(),
  receivedAt: z.string(),
  sentAt: z.string(),
  sequence: z.number(),
  /** When the agent run that sent it started; null in summaries stored before it was kept. Tells restarts apart. */
  agentStartedAt: z.string().nullable().default(null),
  /** Seconds the agent announced until its next report; null when it did not say (older agents). */
  reportIntervalSeconds: z.number().nullable().default(null),
  packets: z.number(),
  bytes: z.number(),
  kernelDrops: z.number(),
  interfaceDrops: z.number(),
  interfaces: z.array(
    z.object({
      name: z.string(),
      packets: z.number(),
      bytes: z.number(),
      kernelDrops: z.number(),
      interfaceDrops: z.number(),
    }),
  ),
  upload: z.object({
    chunksSent: z.number(),
    bytesSent: z.number(),
    chunksDropped: z.number(),
    /** Reports the agent could not deliver (0 in summaries stored before agents counted them). */
    reportsDropped: z.number().default(0),
  }),
  /** Response-action counters; null (or absent, in summaries stored before they existed) when the agent does not poll. */
  antigena: z
    .object({
      pollsOk: z.number(),
      pollsFailed: z.number(),
      actionsReceived: z.number(),
      actionsSucceeded: z.number(),
      actionsFailed: z.number(),
    })
    .nullable()
    .optional(),
});
export type ReportSummary = z.output<typeof ZReportSummarySchema>;

/** Every stored report's summary, published once its batch has committed. */
export const STATS_TOPIC = defineTopic("stats", ZReportSummarySchema);

const MAX_LIVE_INTERFACES = 32;

export function summarizeReport(options: {
  report: StatsReport;
  sensorId: string;
  receivedAt: Date;
}): ReportSummary {
  const { report } = options;
  const sum = (pick: (i: StatsReport["interfaces"][number]) => number) =>
    report.interfaces.reduce((total, i) => total + pick(i), 0);
  return {
    sensorId: options.sensorId,
    clusterId: report.agent.clusterId,
    nodeName: report.agent.nodeName,
    receivedAt: options.receivedAt.toISOString(),
    sentAt: new Date(report.sentAt).toISOString(),
    sequence: report.agent.sequence,
    agentStartedAt: new Date(report.agent.startedAt).toISOString(),
    reportIntervalSeconds: report.reportIntervalSeconds ?? null,
    packets: sum((i) => i.packets),
    bytes: sum((i) => i.bytes),
    kernelDrops: sum((i) => i.kernelDrops),
    interfaceDrops: sum((i) => i.interfaceDrops),
    interfaces: report.interfaces.slice(0, MAX_LIVE_INTERFACES).map((i) => ({
      name: i.name,
      packets: i.packets,
      bytes: i.bytes,
      kernelDrops: i.kernelDrops,
      interfaceDrops: i.interfaceDrops,
    })),
    upload: {
      chunksSent: report.upload.chunksSent,
      bytesSent: report.upload.bytesSent,
      chunksDropped: CHUNK_DROP_REASONS.reduce(
        (total, reason) => total + (report.upload.chunksDropped[reason] ?? 0),
        0,
      ),
      reportsDropped: REPORT_DROP_REASONS.reduce(
        (total, reason) => total + (report.upload.reportsDropped?.[reason] ?? 0),
        0,
      ),
    },
    antigena: report.antigena ?? null,
  };
}
