// The ingest gateway: verifies signed agent requests and stores what they carry.
// Nothing is stored for a request that fails verification or validation.
import {
  decodeChunkUpload,
  decodeStatsReport,
  MAX_CHUNK_BODY_BYTES,
  MAX_REPORT_BYTES,
  verifyRequest,
  VERIFY_FAILURE_STATUS,
  type HeaderBag,
  type IngestResponse,
} from "@tapfleet/sensor";
import type { Db, LiveBus, PgPool } from "@tapfleet/db";
import type { SecretBox } from "../secrets.ts";
import { z } from "zod";
import { defineTopic, publishTopic, subscribeTopic } from "../live/topics.ts";
import { createReportWriter } from "./report-writer.ts";

export { STATS_TOPIC } from "./summary.ts";

/** Live topic on which replicas tell each other that a key id's keys changed (no id: all of them). */
export const INGEST_KEYS_TOPIC = defineTopic("ingest-keys", z.object({ keyId: z.string().optional() }));

/** Key ids remembered at most; unknown ids sent by strangers cannot grow the cache without bound. */
const MAX_CACHED_KEY_IDS = 10_000;
export { summarizeReport, ZReportSummarySchema, type ReportSummary } from "./summary.ts";

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

export interface ChunkRingLimits {
  maxChunks: number;
  maxBytes: number;
}

export interface IngestGateway {
  acceptReport(request: IngestRequest): Promise<IngestResult>;
  acceptChunk(request: IngestRequest): Promise<IngestResult>;
  /** Waits until every accepted report is written (at shutdown). */
  drain(): Promise<void>;
  /**
   * Forgets a key id's cached keys on this replica and, through the live bus,
   * on every other one: after a registration or a rotation, the new key works
   * at once wherever an agent's request lands.
   */
  invalidateKeys(keyId: string): Promise<void>;
  /** Stops listening for key changes (at shutdown). */
  close(): void;
  /**
   * Verifies a signed request for another /ingest endpoint (Antigena): the
   * same checks as reports and chunks, the nonce recorded. Answers the
   * cluster that owns the key, or the refusal to send.
   */
  verifySigned(
    request: IngestRequest,
    maxBodyBytes: number,
  ): Promise<{ refusal: IngestResult } | { clusterId: string | null; keyId: string }>;
}

interface CachedKeys {
  clusterId: string | null;
  secrets: string[];
  expiresAt: number;
}

/**
 * The refusal for a body that names another cluster than the one the
 * signing key belongs to; undefined when they agree.
 */
export function otherClusterRefusal(
  keyClusterId: string | null,
  claimedClusterId: string,
  now: number,
): IngestResult | undefined {
  if (claimedClusterId === keyClusterId) return undefined;
  return {
    status: 403,
    body: {
      ok: false,
      reason: "unknown_cluster",
      message: `this key belongs to cluster "${keyClusterId}", not "${claimedClusterId}"`,
      serverTime: now,
    },
  };
}

export function createIngestGateway(options: {
  db: Db;
  /** Plain PostgreSQL pool for the batched report writes. */
  pool: PgPool;
  bus: LiveBus;
  secrets: SecretBox;
  skewMs?: number;
  /** How long a key lookup is cached; keeps the hot path off the key table. */
  keyCacheMs?: number;
  ring?: ChunkRingLimits;
  clock?: () => number;
  onError?: (error: unknown, context: string) => void;
}): IngestGateway {
  const { db, secrets } = options;
  const writer = createReportWriter({
    pool: options.pool,
    bus: options.bus,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const clock = options.clock ?? Date.now;
  const keyCacheMs = options.keyCacheMs ?? 5000;
  const ring = options.ring ?? { maxChunks: 64, maxBytes: 32 * 1024 * 1024 };
  const cache = new Map<string, CachedKeys>();
  const lastUsedWritten = new Map<string, number>();

  const keyChanges = new AbortController();
  void (async () => {
    for await (const { keyId } of subscribeTopic(options.bus, INGEST_KEYS_TOPIC, keyChanges.signal)) {
      if (keyId !== undefined) cache.delete(keyId);
      else cache.clear();
    }
  })().catch((error: unknown) => options.onError?.(error, "watching ingest key changes"));

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
    if (cache.size >= MAX_CACHED_KEY_IDS) cache.clear();
    cache.set(keyId, entry);
    return entry;
  }

  async function seenNonce(nonce: string, keyId: string, expiresAt: number): Promise<boolean> {
    const inserted = await db.$executeRaw`
      INSERT INTO "IngestNonce" ("keyId", "nonce", "expiresAt") VALUES (${keyId}, ${nonce}, ${new Date(expiresAt)})
      ON CONFLICT DO NOTHING`;
    return inserted === 0;
  }

  const refuse = (
    status: number,
    reason: Extract<IngestResponse, { ok: false }>["reason"],
    message: string,
  ): IngestResult => ({
    status,
    body: { ok: false, reason, message, serverTime: clock() },
  });

  /**
   * With `deferNonce`, the nonce is not recorded here but returned, to be
   * recorded in the same transaction as the report (group commit).
   */
  async function verify(
    request: IngestRequest,
    maxBodyBytes: number,
    deferNonce = false,
  ): Promise<
    | { refusal: IngestResult }
    | { clusterId: string | null; keyId: string; nonce: string; nonceExpiresAt: Date }
  > {
    let nonceExpiresAt = new Date(0);
    const result = await verifyRequest({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      keys: async (keyId) => (await lookup(keyId)).secrets,
      now: clock(),
      ...(options.skewMs ? { skewMs: options.skewMs } : {}),
      seenNonce: deferNonce
        ? (_nonce, _keyId, expiresAt) => {
            nonceExpiresAt = new Date(expiresAt);
            return false;
          }
        : seenNonce,
      maxBodyBytes,
    });
    if (!result.ok)
      return { refusal: refuse(VERIFY_FAILURE_STATUS[result.reason], result.reason, result.message) };
    const keys = await lookup(result.keyId);
    // Throttled: one write per key a minute is enough to tell which keys are in use.
    const now = clock();
    if ((lastUsedWritten.get(result.keyId) ?? 0) < now - 60_000) {
      lastUsedWritten.set(result.keyId, now);
      void db.ingestKey
        .updateMany({ where: { keyId: result.keyId, retiresAt: null }, data: { lastUsedAt: new Date(now) } })
        .catch((error: unknown) => options.onError?.(error, "recording key use"));
    }
    return { clusterId: keys.clusterId, keyId: result.keyId, nonce: result.nonce, nonceExpiresAt };
  }

  const accepted = (): IngestResult => ({ status: 200, body: { ok: true, serverTime: clock() } });

  /**
   * The refusal for a write the database turned down because the cluster is
   * gone: it was removed between the key's check and the write (PostgreSQL's
   * foreign key violation, raw or through Prisma). Any other error is not ours
   * to answer and goes on (a 500).
   */
  function removedClusterRefusal(error: unknown, clusterId: string): IngestResult {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "23503" || code === "P2003")
      return refuse(
        403,
        "unknown_cluster",
        `cluster "${clusterId}" is not known (it was removed); its key no longer verifies`,
      );
    throw error;
  }

  return {
    async invalidateKeys(keyId) {
      cache.delete(keyId);
      // Never fails the caller: the key is stored and its secret about to be shown once.
      // Without the message, other replicas pick the key up when their cache expires.
      await publishTopic(options.bus, INGEST_KEYS_TOPIC, { keyId }).catch((error: unknown) =>
        options.onError?.(error, "announcing a key change"),
      );
    },
    close: () => keyChanges.abort(),
    drain: () => writer.drain(),
    verifySigned: (request, maxBodyBytes) => verify(request, maxBodyBytes),

    async acceptReport(request) {
      const verified = await verify(request, MAX_REPORT_BYTES, true);
      if ("refusal" in verified) return verified.refusal;
      const decoded = decodeStatsReport(request.body);
      if (!decoded.ok) return refuse(400, "invalid_body", decoded.message);
      const report = decoded.value;
      const otherCluster = otherClusterRefusal(verified.clusterId, report.agent.clusterId, clock());
      if (otherCluster) return otherCluster;
      let outcome;
      try {
        outcome = await writer.write({
          keyId: verified.keyId,
          nonce: verified.nonce,
          nonceExpiresAt: verified.nonceExpiresAt,
          report,
          body: request.body,
          receivedAt: new Date(clock()),
        });
      } catch (error) {
        return removedClusterRefusal(error, report.agent.clusterId);
      }
      if (outcome === "replayed") return refuse(401, "replayed", "nonce already used");
      // "duplicate": a resend of a stored report whose answer was lost; acknowledged again.
      return accepted();
    },

    async acceptChunk(request) {
      const verified = await verify(request, MAX_CHUNK_BODY_BYTES);
      if ("refusal" in verified) return verified.refusal;
      const decoded = decodeChunkUpload(request.body);
      if (!decoded.ok) return refuse(400, "invalid_body", decoded.message);
      const { metadata, pcap } = decoded.value;
      const otherCluster = otherClusterRefusal(verified.clusterId, metadata.agent.clusterId, clock());
      if (otherCluster) return otherCluster;
      const now = new Date(clock());
      const stored = db.$transaction(async (tx) => {
        const sensor = await tx.sensor.upsert({
          where: {
            clusterId_nodeName: { clusterId: metadata.agent.clusterId, nodeName: metadata.agent.nodeName },
          },
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
      try {
        await stored;
      } catch (error) {
        return removedClusterRefusal(error, metadata.agent.clusterId);
      }
      return accepted();
    },
  };
}
