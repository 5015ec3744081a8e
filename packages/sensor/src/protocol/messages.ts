// Messages: the agent's identity, stats reports, chunk metadata and the
// server's answer to a report or chunk.

import { z } from "zod";
import { ZInterfaceNameSchema } from "../actions.ts";
import { CHUNK_MAX_BYTES_LIMIT, REPORT_INTERVAL_SECONDS } from "../settings.ts";
import { PROTOCOL_VERSION } from "./constants.ts";
import { zodMessage, type DecodeResult } from "./decoding.ts";
import { count32, counter, epochMs, epochUs, shortText } from "./fields.ts";
import { VERIFY_FAILURE_REASONS, type Body } from "./signing.ts";

/** Who is talking. Sequences count per message kind from 0 at agent start; `startedAt` tells restarts apart. */
export const ZAgentIdentitySchema = z.strictObject({
  clusterId: shortText(63),
  nodeName: shortText(253),
  podName: shortText(253),
  agentVersion: shortText(64),
  configHash: z.string().regex(/^[0-9a-f]{16,64}$/),
  startedAt: epochMs,
  sequence: counter,
});
export type AgentIdentity = z.infer<typeof ZAgentIdentitySchema>;

/** Packets by protocol: ipv4 + ipv6 count network layers, tcp/udp/icmp (v4 and v6)/other count transports. */
export const ZProtocolMixSchema = z.strictObject({
  ipv4: counter,
  ipv6: counter,
  tcp: counter,
  udp: counter,
  icmp: counter,
  other: counter,
});
export type ProtocolMix = z.infer<typeof ZProtocolMixSchema>;

export const ZTopTalkerSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6()]),
  packets: counter,
  bytes: counter,
});
export type TopTalker = z.infer<typeof ZTopTalkerSchema>;

export const MAX_TOP_TALKERS = 20;
export const MAX_INTERFACES_PER_REPORT = 256;
/** Most interface names a report lists in `nodeInterfaces`. */
export const MAX_NODE_INTERFACES = 1024;

/** Counters are cumulative since agent start (like pcap_stats), so a lost report loses nothing. */
export const ZInterfaceStatsSchema = z.strictObject({
  name: ZInterfaceNameSchema,
  packets: counter,
  bytes: counter,
  /** Dropped by the kernel because the capture buffer was full (ps_drop). */
  kernelDrops: counter,
  /** Dropped by the interface or driver (ps_ifdrop). */
  interfaceDrops: counter,
  protocols: ZProtocolMixSchema,
  /** By bytes, largest first, at most MAX_TOP_TALKERS, over the last report interval. */
  topTalkers: z.array(ZTopTalkerSchema).max(MAX_TOP_TALKERS),
});
export type InterfaceStats = z.infer<typeof ZInterfaceStatsSchema>;

export const CHUNK_DROP_REASONS = [
  "bandwidth_cap",
  "queue_full",
  "too_large",
  "server_rejected",
  "network_error",
] as const;
export const ZChunkDropReasonSchema = z.enum(CHUNK_DROP_REASONS);
export type ChunkDropReason = z.infer<typeof ZChunkDropReasonSchema>;

/** Why a stats report never reached the server: pushed out of a full outbox, or refused for good. */
export const REPORT_DROP_REASONS = ["outbox_full", "rejected"] as const;
export const ZReportDropReasonSchema = z.enum(REPORT_DROP_REASONS);
export type ReportDropReason = z.infer<typeof ZReportDropReasonSchema>;

export const ZUploadStatsSchema = z.strictObject({
  chunksSent: counter,
  bytesSent: counter,
  /** Cumulative drops by reason; reasons never seen may be left out. */
  chunksDropped: z.partialRecord(ZChunkDropReasonSchema, counter),
  /**
   * Cumulative reports this agent dropped, by reason; left out while none were.
   * A later report carries the count, so the server learns of a loss that is
   * otherwise only a gap in sequence numbers.
   */
  reportsDropped: z.partialRecord(ZReportDropReasonSchema, counter).optional(),
});
export type UploadStats = z.infer<typeof ZUploadStatsSchema>;

/**
 * Antigena (response actions) counters, cumulative since agent start. Sent
 * only by agents with ANTIGENA_ENABLED; optional so that reports without it
 * (older agents, Antigena off) stay valid.
 */
export const ZAntigenaStatsSchema = z.strictObject({
  /** Polls answered with 2xx. */
  pollsOk: counter,
  /** Polls that failed: network error, timeout, or a non-2xx answer. */
  pollsFailed: counter,
  /** Distinct actions received (an action handed out again is not counted twice). */
  actionsReceived: counter,
  /** Actions that ran and whose "succeeded" result the server accepted. */
  actionsSucceeded: counter,
  /** Every other ended action: failed to run, unsupported, or its result could not be delivered. */
  actionsFailed: counter,
});
export type AntigenaStats = z.infer<typeof ZAntigenaStatsSchema>;

export const ZStatsReportSchema = z.strictObject({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  agent: ZAgentIdentitySchema,
  sentAt: epochMs,
  /**
   * Seconds until this agent's next report (TAPFLEET_REPORT_INTERVAL), so the
   * server knows when a silence is a missed report. Older agents leave it
   * out; read it then as REPORT_INTERVAL_SECONDS.default.
   */
  reportIntervalSeconds: z
    .number()
    .int()
    .min(REPORT_INTERVAL_SECONDS.min)
    .max(REPORT_INTERVAL_SECONDS.max)
    .optional(),
  interfaces: z.array(ZInterfaceStatsSchema).max(MAX_INTERFACES_PER_REPORT),
  /**
   * Every network interface the node has, captured or not, so the server can
   * preview what other include/exclude settings would capture. Older agents
   * leave it out.
   */
  nodeInterfaces: z.array(ZInterfaceNameSchema).max(MAX_NODE_INTERFACES).optional(),
  upload: ZUploadStatsSchema,
  antigena: ZAntigenaStatsSchema.optional(),
});
export type StatsReport = z.infer<typeof ZStatsReportSchema>;

/** Timestamps of packets are epoch microseconds, the precision of a classic pcap file. */
export const ZChunkMetadataSchema = z
  .strictObject({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    agent: ZAgentIdentitySchema,
    interface: ZInterfaceNameSchema,
    firstPacketAtUs: epochUs,
    lastPacketAtUs: epochUs,
    packetCount: count32.min(1),
    pcapBytes: counter.max(CHUNK_MAX_BYTES_LIMIT),
  })
  .refine((chunk) => chunk.lastPacketAtUs >= chunk.firstPacketAtUs, {
    message: "lastPacketAtUs is before firstPacketAtUs",
    path: ["lastPacketAtUs"],
  });
export type ChunkMetadata = z.infer<typeof ZChunkMetadataSchema>;

/** What the server answers to a report or chunk. */
export const ZIngestResponseSchema = z.discriminatedUnion("ok", [
  z.strictObject({
    ok: z.literal(true),
    /** Lets the agent see its own clock drift before it turns into `stale`. */
    serverTime: epochMs,
    /** The config hash the server expects; differs from the agent's while a rollout is pending. */
    desiredConfigHash: z.string().optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    reason: z.union([
      z.enum(VERIFY_FAILURE_REASONS),
      z.enum(["invalid_body", "unknown_cluster", "rate_limited", "internal"]),
    ]),
    message: z.string(),
    serverTime: epochMs,
  }),
]);
export type IngestResponse = z.infer<typeof ZIngestResponseSchema>;

export function encodeStatsReport(report: StatsReport): string {
  return JSON.stringify(ZStatsReportSchema.parse(report));
}

export function decodeStatsReport(body: Body): DecodeResult<StatsReport> {
  let json: unknown;
  try {
    json = JSON.parse(
      typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body),
    );
  } catch {
    return { ok: false, reason: "invalid_body", message: "body is not UTF-8 JSON" };
  }
  const result = ZStatsReportSchema.safeParse(json);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, reason: "invalid_body", message: zodMessage(result.error) };
}
