// Stats reports: every interval, a report of each interface's counters, the
// uploads and Antigena goes into the outbox, which delivers them in order and
// retries with backoff while the collector is away.

import {
  CONTENT_TYPES,
  encodeStatsReport,
  INGEST_PATHS,
  MAX_INTERFACES_PER_REPORT,
  MAX_NODE_INTERFACES,
  PROTOCOL_VERSION,
  ZIngestResponseSchema,
  type AgentIdentity,
  type AntigenaStats,
  type InterfaceStats,
  type StatsReport,
  type UploadStats,
} from "@tapfleet/sensor/protocol";
import type { AgentTuning } from "./agent-tuning.ts";
import { causeMessage } from "./cause-message.ts";
import type { CollectorClient } from "./collector-client.ts";
import type { Logger } from "./logger.ts";
import type { ReportDelivery } from "./status-file.ts";
import { ReportOutbox, type SendOutcome } from "./report-outbox.ts";

export interface ReporterOptions {
  client: Pick<CollectorClient, "post">;
  /** The agent's identity for a report with this sequence number. */
  identity: (sequence: number) => AgentIdentity;
  /** The config this agent runs, to say so when the server expects another. */
  configHash: string;
  reportIntervalSeconds: number;
  tuning: Pick<AgentTuning, "maxQueuedReports" | "backoffBaseMs" | "backoffCapMs">;
  now: () => number;
  random?: () => number;
  log: Logger;
  /** Seals the chunks that hold packets and refreshes libpcap's counters, before a report is built. */
  flushCapture: () => Promise<void>;
  /** Each interface's counters since the last report. */
  takeInterfaceStats: () => InterfaceStats[];
  /** Every interface the node has, captured or not (the server previews interface selections with it). */
  nodeInterfaces?: () => string[];
  /** The chunk uploads' counters so far. */
  uploadStats: () => UploadStats;
  antigena?: { stats(): AntigenaStats; describeStats(): string };
  /** Told what became of every attempt to send a report (the readiness probe's input). */
  onDelivery?: (delivery: ReportDelivery) => void;
}

export class Reporter {
  private readonly outbox: ReportOutbox;
  private sequence = 0;
  private announcedDesiredHash: string | undefined;

  constructor(private readonly options: ReporterOptions) {
    const { tuning, log } = options;
    this.outbox = new ReportOutbox({
      maxReports: tuning.maxQueuedReports,
      backoffBaseMs: tuning.backoffBaseMs,
      backoffCapMs: tuning.backoffCapMs,
      random: options.random,
      send: (body, sequence) => this.send(body, sequence),
      onDropped: (sequence, reason) =>
        log.log(
          0,
          `report #${sequence} dropped: ${reason === "outbox_full" ? `outbox full (${tuning.maxQueuedReports} reports waiting)` : "the server rejected it"}`,
        ),
      onRetry: (sequence, attempt, delayMs) =>
        log.log(
          2,
          `report #${sequence}: collector unavailable, retry ${attempt + 1} in ${delayMs} ms (${this.outbox.length} waiting)`,
        ),
    });
  }

  /** Builds the next report and queues it for delivery. */
  async report(): Promise<void> {
    // Chunks sealed by the flush are counted before it resolves, and libpcap's counters refreshed.
    await this.options.flushCapture();
    const built = this.buildReport();
    logStats(this.options.log, built);
    if (this.options.antigena !== undefined) this.options.log.log(1, this.options.antigena.describeStats());
    this.outbox.enqueue(built.agent.sequence, encodeStatsReport(built));
  }

  /** At shutdown: delivers the queued reports for up to `timeoutMs`, then stops; resolves to how many stay unsent. */
  flush(timeoutMs: number): Promise<number> {
    return this.outbox.flush(timeoutMs);
  }

  private buildReport(): StatsReport {
    const { log, antigena } = this.options;
    const interfaces = this.options.takeInterfaceStats();
    interfaces.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
    if (interfaces.length > MAX_INTERFACES_PER_REPORT) {
      log.log(
        0,
        `${interfaces.length} interfaces; the report carries the ${MAX_INTERFACES_PER_REPORT} busiest`,
      );
      interfaces.length = MAX_INTERFACES_PER_REPORT;
    }
    const upload = this.options.uploadStats();
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: this.options.identity(this.sequence++),
      sentAt: this.options.now(),
      reportIntervalSeconds: this.options.reportIntervalSeconds,
      interfaces,
      ...(this.options.nodeInterfaces === undefined
        ? {}
        : { nodeInterfaces: this.options.nodeInterfaces().slice(0, MAX_NODE_INTERFACES) }),
      upload: {
        chunksSent: upload.chunksSent,
        bytesSent: upload.bytesSent,
        chunksDropped: { ...upload.chunksDropped },
        ...this.reportsDropped(),
      },
      ...(antigena === undefined ? {} : { antigena: antigena.stats() }),
    };
  }

  /** The outbox's losses so far, by reason; nothing while there are none. */
  private reportsDropped() {
    const dropped = {
      ...(this.outbox.droppedFull > 0 ? { outbox_full: this.outbox.droppedFull } : {}),
      ...(this.outbox.droppedRejected > 0 ? { rejected: this.outbox.droppedRejected } : {}),
    };
    return Object.keys(dropped).length > 0 ? { reportsDropped: dropped } : {};
  }

  private async send(body: string, sequence: number): Promise<SendOutcome> {
    const { log, configHash } = this.options;
    let status: number;
    let text: string;
    try {
      ({ status, body: text } = await this.options.client.post(
        INGEST_PATHS.reports,
        body,
        CONTENT_TYPES.report,
      ));
    } catch (error) {
      log.log(2, `report #${sequence} (${body.length} bytes) not sent: ${causeMessage(error)}`);
      this.options.onDelivery?.({ outcome: "failed", message: causeMessage(error) });
      return "retry";
    }
    log.log(2, `report #${sequence} (${body.length} bytes) sent: HTTP ${status} ${text.slice(0, 200)}`);
    const answer = ZIngestResponseSchema.safeParse(safeJson(text));
    if (answer.success && answer.data.ok && answer.data.desiredConfigHash !== undefined) {
      const desired = answer.data.desiredConfigHash;
      if (desired !== configHash && desired !== this.announcedDesiredHash) {
        this.announcedDesiredHash = desired;
        log.log(
          0,
          `the server expects config ${desired.slice(0, 12)}; this agent runs ${configHash.slice(0, 12)} (a rollout is pending)`,
        );
      }
    }
    if (status >= 200 && status < 300) {
      this.options.onDelivery?.({ outcome: "accepted" });
      return "sent";
    }
    this.options.onDelivery?.({
      outcome: "refused",
      status,
      message: answer.success && !answer.data.ok ? answer.data.message : text.slice(0, 200),
    });
    // Refusals that a later attempt can cure: overload, auth (a key rotation in progress), server errors.
    if (status === 401 || status === 408 || status === 429 || status >= 500) return "retry";
    return "rejected";
  }
}

function logStats(log: Logger, report: StatsReport): void {
  if (!log.enabled(1)) return;
  for (const item of report.interfaces) {
    const p = item.protocols;
    const talkers = item.topTalkers
      .slice(0, 3)
      .map((talker) => `${talker.address} ${talker.bytes}B`)
      .join(", ");
    log.log(
      1,
      `stats ${item.name}: ${item.packets} packets, ${item.bytes} bytes, drops kernel ${item.kernelDrops} interface ${item.interfaceDrops}; ipv4 ${p.ipv4} ipv6 ${p.ipv6} tcp ${p.tcp} udp ${p.udp} icmp ${p.icmp} other ${p.other}${talkers === "" ? "" : `; top ${talkers}`}`,
    );
  }
  const upload = report.upload;
  const dropped = Object.entries(upload.chunksDropped)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  log.log(
    1,
    `upload: ${upload.chunksSent} chunks (${upload.bytesSent} bytes) sent; not sent: ${dropped || "none"}`,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
