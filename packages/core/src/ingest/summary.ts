// What a stored report looks like in lists and on the live bus: totals and
// per-interface counters, small enough for one NOTIFY.
import {
  CHUNK_DROP_REASONS,
  REPORT_DROP_REASONS,
  type AntigenaStats,
  type StatsReport,
} from "@tapfleet/sensor";

export interface ReportSummary {
  sensorId: string;
  clusterId: string;
  nodeName: string;
  receivedAt: string;
  sentAt: string;
  sequence: number;
  /** Seconds the agent announced until its next report; null when its report did not say (older agents). */
  reportIntervalSeconds: number | null;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  interfaces: { name: string; packets: number; bytes: number; kernelDrops: number; interfaceDrops: number }[];
  upload: { chunksSent: number; bytesSent: number; chunksDropped: number; reportsDropped: number };
  /** Response-action counters; null when the agent does not poll for actions (Antigena off, or older). */
  antigena: AntigenaStats | null;
}

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
