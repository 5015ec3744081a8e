// The ingest gateway: verifies signed agent requests and stores what they carry.
// Nothing is stored for a request that fails verification or validation.
import {
  CHUNK_DROP_REASONS,
  decodeChunkUpload,
  decodeStatsReport,
  MAX_CHUNK_BODY_BYTES,
  MAX_REPORT_BYTES,
  verifyRequest,
  VERIFY_FAILURE_STATUS,
  type HeaderBag,
  type IngestResponse,
  type StatsReport,
} from "@tapfleet/sensor";
import type { Db, LiveBus } from "@tapfleet/db";
import type { SecretBox } from "../secrets.ts";

/** Live bus topic carrying a summary of every stored report. */
export const STATS_TOPIC = "stats";

export interface IngestRequest {
  method: string;
  /** The raw request target, as signed. */
  path: string;
  headers: HeaderBag;
  body: Uint8Array;
}

export interface IngestResult {
  status: number;
  body: IngestResponse;
}

export interface ReportSummary {
  sensorId: string;
  clusterId: string;
  nodeName: string;
  receivedAt: string;
  sentAt: string;
  sequence: number;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  interfaces: { name: string; packets: number; bytes: number; kernelDrops: number; interfaceDrops: number }[];
  upload: { chunksSent: number; bytesSent: number; chunksDropped: number };
}

export interface ChunkRingLimits {
  maxChunks: number;
  maxBytes: number;
}

export interface IngestGateway {
  acceptReport(request: IngestRequest): Promise<IngestResult>;
  acceptChunk(request: IngestRequest): Promise<IngestResult>;
  /** Forgets cached keys (after a rotation on this replica). */
  invalidateKeys(): void;
}

interface CachedKeys {
  clusterId: string | null;
  secrets: string[];
  expiresAt: number;
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
      chunksDropped: CHUNK_DROP_REASONS.reduce((total, reason) => total + (report.upload.chunksDropped[reason] ?? 0), 0),
    },
  };
}

export function createIngestGateway(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  skewMs?: number;
  /** How long a key lookup is cached; keeps the hot path off the key table. */
  keyCacheMs?: number;
  ring?: ChunkRingLimits;
  clock?: () => number;
  onError?: (error: unknown, context: string) => void;
}): IngestGateway {
  const { db, bus, secrets } = options;
  const clock = options.clock ?? Date.now;
  const keyCacheMs = options.keyCacheMs ?? 5000;
  const ring = options.ring ?? { maxChunks: 64, maxBytes: 32 * 1024 * 1024 };
  const cache = new Map<string, CachedKeys>();
  const lastUsedWritten = new Map<string, number>();

  async function lookup(keyId: string): Promise<CachedKeys> {
    const now = clock();
    const cached = cache.get(keyId);
    if (cached && cached.expiresAt > now) return cached;
    const rows = await db.ingestKey.findMany({
      where: { keyId, OR: [{ retiresAt: null }, { retiresAt: { gt: new Date(now) } }] },
      orderBy: { createdAt: "desc" },
    });
    const entry: CachedKeys = {
      clusterId: rows[0]?.clusterId ?? null,
      secrets: rows.map((row) => secrets.open(row.secretCiphertext)),
      // Never cache past the moment the next key retires.
      expiresAt: Math.min(now + keyCacheMs, ...rows.map((r) => r.retiresAt?.getTime() ?? Infinity)),
    };
    cache.set(keyId, entry);
    return entry;
  }

  async function seenNonce(nonce: string, keyId: string, expiresAt: number): Promise<boolean> {
    const inserted = await db.$executeRaw`
      INSERT INTO "IngestNonce" ("keyId", "nonce", "expiresAt") VALUES (${keyId}, ${nonce}, ${new Date(expiresAt)})
      ON CONFLICT DO NOTHING`;
    return inserted === 0;
  }

  const refuse = (status: number, reason: Extract<IngestResponse, { ok: false }>["reason"], message: string): IngestResult => ({
    status,
    body: { ok: false, reason, message, serverTime: clock() },
  });

  async function verify(
    request: IngestRequest,
    maxBodyBytes: number,
  ): Promise<{ refusal: IngestResult } | { clusterId: string | null }> {
    const result = await verifyRequest({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      keys: async (keyId) => (await lookup(keyId)).secrets,
      now: clock(),
      ...(options.skewMs ? { skewMs: options.skewMs } : {}),
      seenNonce,
      maxBodyBytes,
    });
    if (!result.ok) return { refusal: refuse(VERIFY_FAILURE_STATUS[result.reason], result.reason, result.message) };
    const keys = await lookup(result.keyId);
    // Throttled: one write per key a minute is enough to tell which keys are in use.
    const now = clock();
    if ((lastUsedWritten.get(result.keyId) ?? 0) < now - 60_000) {
      lastUsedWritten.set(result.keyId, now);
      void db.ingestKey
        .updateMany({ where: { keyId: result.keyId, retiresAt: null }, data: { lastUsedAt: new Date(now) } })
        .catch((error: unknown) => options.onError?.(error, "recording key use"));
    }
    return { clusterId: keys.clusterId };
  }

  const accepted = (): IngestResult => ({ status: 200, body: { ok: true, serverTime: clock() } });

  return {
    invalidateKeys: () => cache.clear(),

    async acceptReport(request) {
      const verified = await verify(request, MAX_REPORT_BYTES);
      if ("refusal" in verified) return verified.refusal;
      const decoded = decodeStatsReport(request.body);
      if (!decoded.ok) return refuse(400, "invalid_body", decoded.message);
      const report = decoded.value;
      if (report.agent.clusterId !== verified.clusterId) {
        return refuse(403, "unknown_cluster", `this key belongs to cluster "${verified.clusterId}", not "${report.agent.clusterId}"`);
      }
      const receivedAt = new Date(clock());
      const agentStartedAt = new Date(report.agent.startedAt);
      const sequence = BigInt(report.agent.sequence);
      const stored = await db.$transaction(async (tx) => {
        const where = { clusterId_nodeName: { clusterId: report.agent.clusterId, nodeName: report.agent.nodeName } };
        const existing = await tx.sensor.findUnique({ where });
        // A resend of a report already stored (its answer was lost) is
        // acknowledged again but not stored twice.
        if (existing && existing.agentStartedAt.getTime() === agentStartedAt.getTime() && sequence <= existing.lastSequence) {
          return null;
        }
        const identity = {
          podName: report.agent.podName,
          agentVersion: report.agent.agentVersion,
          configHash: report.agent.configHash,
          agentStartedAt,
          lastSequence: sequence,
          lastSeenAt: receivedAt,
        };
        const sensor = await tx.sensor.upsert({
          where,
          create: { clusterId: report.agent.clusterId, nodeName: report.agent.nodeName, ...identity },
          update: identity,
        });
        const summary = summarizeReport({ report, sensorId: sensor.id, receivedAt });
        await tx.sensor.update({ where: { id: sensor.id }, data: { lastSummary: { ...summary } } });
        await tx.sensorReport.create({
          data: {
            receivedAt,
            sensorId: sensor.id,
            clusterId: report.agent.clusterId,
            nodeName: report.agent.nodeName,
            agentStartedAt,
            sequence,
            sentAt: new Date(report.sentAt),
            report,
          },
        });
        return summary;
      });
      if (stored) {
        await bus.publish(STATS_TOPIC, stored).catch((error: unknown) => options.onError?.(error, "publishing a report"));
      }
      return accepted();
    },

    async acceptChunk(request) {
      const verified = await verify(request, MAX_CHUNK_BODY_BYTES);
      if ("refusal" in verified) return verified.refusal;
      const decoded = decodeChunkUpload(request.body);
      if (!decoded.ok) return refuse(400, "invalid_body", decoded.message);
      const { metadata, pcap } = decoded.value;
      if (metadata.agent.clusterId !== verified.clusterId) {
        return refuse(403, "unknown_cluster", `this key belongs to cluster "${verified.clusterId}", not "${metadata.agent.clusterId}"`);
      }
      const now = new Date(clock());
      await db.$transaction(async (tx) => {
        const sensor = await tx.sensor.upsert({
          where: { clusterId_nodeName: { clusterId: metadata.agent.clusterId, nodeName: metadata.agent.nodeName } },
          create: {
            clusterId: metadata.agent.clusterId,
            nodeName: metadata.agent.nodeName,
            podName: metadata.agent.podName,
            agentVersion: metadata.agent.agentVersion,
            configHash: metadata.agent.configHash,
            agentStartedAt: new Date(metadata.agent.startedAt),
            lastSequence: -1n,
            lastSeenAt: now,
          },
          update: { lastSeenAt: now },
        });
        await tx.packetChunk.create({
          data: {
            sensorId: sensor.id,
            receivedAt: now,
            interface: metadata.interface,
            firstPacketAtUs: BigInt(metadata.firstPacketAtUs),
            lastPacketAtUs: BigInt(metadata.lastPacketAtUs),
            packetCount: metadata.packetCount,
            pcap: Buffer.from(pcap.buffer, pcap.byteOffset, pcap.byteLength) as Uint8Array<ArrayBuffer>,
          },
        });
        // Keep the ring bounded: the newest chunks within both limits stay.
        await tx.$executeRaw`
          DELETE FROM "PacketChunk" WHERE id IN (
            SELECT id FROM (
              SELECT id,
                     sum(octet_length(pcap)) OVER (ORDER BY id DESC) AS total,
                     row_number() OVER (ORDER BY id DESC) AS n
              FROM "PacketChunk" WHERE "sensorId" = ${sensor.id}::uuid
            ) ranked WHERE total > ${ring.maxBytes} OR n > ${ring.maxChunks})`;
      });
      return accepted();
    },
  };
}
