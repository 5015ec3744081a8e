// Group commit for stats reports. Requests that arrive while a batch is being
// written wait for the next one; each batch is one transaction of a few
// multi-row statements, and every request is answered only after the batch
// holding its report has committed. This turns ~6 round trips per report into
// ~6 per batch, which is what lets one small server take thousands of
// reports a second without giving up "acknowledged means stored".
import { randomUUID } from "node:crypto";
import type { LiveBus, PgPool } from "@tapfleet/db";
import type { StatsReport } from "@tapfleet/sensor";
import { summarizeReport, type ReportSummary } from "./summary.ts";

export type WriteOutcome = "stored" | "duplicate" | "replayed";

interface Pending {
  keyId: string;
  nonce: string;
  nonceExpiresAt: Date;
  report: StatsReport;
  receivedAt: Date;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

export interface ReportWriter {
  write(item: Omit<Pending, "resolve" | "reject">): Promise<WriteOutcome>;
  /** Waits for queued reports to be written. */
  drain(): Promise<void>;
}

interface SensorState {
  id: string;
  agentStartedAt: number;
  lastSequence: bigint;
}

export const STATS_TOPIC = "stats";

export function createReportWriter(options: {
  pool: PgPool;
  bus: LiveBus;
  maxBatch?: number;
  maxConcurrentBatches?: number;
  onError?: (error: unknown, context: string) => void;
}): ReportWriter {
  const maxBatch = options.maxBatch ?? 500;
  // Two batches in flight overlap our work with the database's; more only
  // adds lock contention on a small server.
  const maxConcurrent = options.maxConcurrentBatches ?? 2;
  let queue: Pending[] = [];
  let active = 0;
  let scheduled = false;
  let idle: { promise: Promise<void>; resolve: () => void } | undefined;

  const run = async (batch: Pending[]) => {
    try {
      const { outcomes, summaries } = await writeBatch(options.pool, batch);
      batch.forEach((item, i) => item.resolve(outcomes[i]!));
      if (summaries.length > 0) {
        await options.bus
          .publishMany(STATS_TOPIC, summaries)
          .catch((error: unknown) => options.onError?.(error, "publishing reports"));
      }
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };

  const pump = () => {
    while (active < maxConcurrent && queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active += 1;
      void run(batch).finally(() => {
        active -= 1;
        pump();
      });
    }
    if (active === 0 && queue.length === 0 && idle) {
      idle.resolve();
      idle = undefined;
    }
  };

  return {
    write(item) {
      return new Promise<WriteOutcome>((resolve, reject) => {
        queue.push({ ...item, resolve, reject });
        // setImmediate lets the requests of this turn of the event loop join the batch.
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
    drain() {
      if (active === 0 && queue.length === 0) return Promise.resolve();
      if (!idle) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        idle = { promise, resolve };
      }
      return idle.promise;
    },
  };
}

async function writeBatch(
  pool: PgPool,
  batch: Pending[],
): Promise<{ outcomes: WriteOutcome[]; summaries: ReportSummary[] }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // 1. Nonces: the ones the insert skips were seen before (here or on another replica).
    // Rows are inserted in key order so that two batches in flight take their
    // locks in the same order and cannot deadlock.
    const byNonce = [...batch].sort((a, b) => (a.keyId + a.nonce < b.keyId + b.nonce ? -1 : 1));
    const nonces = await client.query<{ keyId: string; nonce: string }>(
      `INSERT INTO "IngestNonce" ("keyId", "nonce", "expiresAt")
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
       ON CONFLICT DO NOTHING RETURNING "keyId", "nonce"`,
      [byNonce.map((b) => b.keyId), byNonce.map((b) => b.nonce), byNonce.map((b) => b.nonceExpiresAt)],
    );
    const fresh = new Set(nonces.rows.map((r) => `${r.keyId}\u0000${r.nonce}`));
    // The same nonce twice within one batch: only its first use is fresh.
    const outcomes: WriteOutcome[] = batch.map((b) => {
      const key = `${b.keyId}\u0000${b.nonce}`;
      if (!fresh.has(key)) return "replayed";
      fresh.delete(key);
      return "stored";
    });

    // 2. The sensors of this batch, locked so replicas writing the same node serialise.
    const nodeKey = (r: StatsReport) => `${r.agent.clusterId}\u0000${r.agent.nodeName}`;
    const nodes = [...new Map(batch.map((b) => [nodeKey(b.report), b.report.agent])).values()];
    const existing = await client.query<{
      id: string;
      clusterId: string;
      nodeName: string;
      agentStartedAt: Date;
      lastSequence: string;
    }>(
      `SELECT s.id, s."clusterId", s."nodeName", s."agentStartedAt", s."lastSequence" FROM "Sensor" s
       JOIN unnest($1::text[], $2::text[]) AS n(cluster, node) ON s."clusterId" = n.cluster AND s."nodeName" = n.node
       ORDER BY s.id FOR UPDATE OF s`,
      [nodes.map((n) => n.clusterId), nodes.map((n) => n.nodeName)],
    );
    const state = new Map<string, SensorState>(
      existing.rows.map((row) => [
        `${row.clusterId}\u0000${row.nodeName}`,
        { id: row.id, agentStartedAt: row.agentStartedAt.getTime(), lastSequence: BigInt(row.lastSequence) },
      ]),
    );

    // 3. In arrival order: a report already stored (same agent start, sequence
    // not newer) is a resend whose answer was lost: acknowledge, don't store.
    const newest = new Map<string, Pending>();
    batch.forEach((item, i) => {
      if (outcomes[i] !== "stored") return;
      const key = nodeKey(item.report);
      const sensor = state.get(key);
      const sequence = BigInt(item.report.agent.sequence);
      if (
        sensor &&
        sensor.agentStartedAt === item.report.agent.startedAt &&
        sequence <= sensor.lastSequence
      ) {
        outcomes[i] = "duplicate";
        return;
      }
      state.set(key, {
        id: sensor?.id ?? randomUUID(),
        agentStartedAt: item.report.agent.startedAt,
        lastSequence: sequence,
      });
      newest.set(key, item);
    });
    if (newest.size === 0) {
      await client.query("COMMIT");
      return { outcomes, summaries: [] };
    }

    // 4. One upsert for every sensor that sent something new; its id comes back.
    const upserts = [...newest.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, item]) => {
        const s = state.get(key)!;
        return {
          item,
          id: s.id,
          summary: summarizeReport({ report: item.report, sensorId: s.id, receivedAt: item.receivedAt }),
        };
      });
    const saved = await client.query<{ id: string; clusterId: string; nodeName: string }>(
      `INSERT INTO "Sensor" ("id", "clusterId", "nodeName", "podName", "agentVersion", "configHash", "agentStartedAt",
                             "lastSequence", "firstSeenAt", "lastSeenAt", "lastSummary")
       SELECT id, cluster, node, pod, version, hash, started, seq, seen, seen, summary
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                   $8::bigint[], $9::timestamptz[], $10::jsonb[])
            AS u(id, cluster, node, pod, version, hash, started, seq, seen, summary)
       ON CONFLICT ("clusterId", "nodeName") DO UPDATE SET
         "podName" = EXCLUDED."podName", "agentVersion" = EXCLUDED."agentVersion", "configHash" = EXCLUDED."configHash",
         "agentStartedAt" = EXCLUDED."agentStartedAt", "lastSequence" = EXCLUDED."lastSequence",
         "lastSeenAt" = EXCLUDED."lastSeenAt",
         "lastSummary" = jsonb_set(EXCLUDED."lastSummary", '{sensorId}', to_jsonb("Sensor".id::text))
       RETURNING id, "clusterId", "nodeName"`,
      [
        upserts.map((u) => u.id),
        upserts.map((u) => u.item.report.agent.clusterId),
        upserts.map((u) => u.item.report.agent.nodeName),
        upserts.map((u) => u.item.report.agent.podName),
        upserts.map((u) => u.item.report.agent.agentVersion),
        upserts.map((u) => u.item.report.agent.configHash),
        upserts.map((u) => new Date(u.item.report.agent.startedAt)),
        upserts.map((u) => String(u.item.report.agent.sequence)),
        upserts.map((u) => u.item.receivedAt),
        upserts.map((u) => JSON.stringify(u.summary)),
      ],
    );
    // Another replica may have created a sensor between our read and our insert: trust what came back.
    const ids = new Map(saved.rows.map((row) => [`${row.clusterId}\u0000${row.nodeName}`, row.id]));

    // 5. Every new report, in one insert.
    const stored = batch.filter((_, i) => outcomes[i] === "stored");
    await client.query(
      `INSERT INTO "SensorReport" ("receivedAt", "sensorId", "clusterId", "nodeName", "agentStartedAt", "sequence", "sentAt", "report")
       SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[],
                            $7::timestamptz[], $8::json[])`,
      [
        stored.map((s) => s.receivedAt),
        stored.map((s) => ids.get(nodeKey(s.report))!),
        stored.map((s) => s.report.agent.clusterId),
        stored.map((s) => s.report.agent.nodeName),
        stored.map((s) => new Date(s.report.agent.startedAt)),
        stored.map((s) => String(s.report.agent.sequence)),
        stored.map((s) => new Date(s.report.sentAt)),
        stored.map((s) => JSON.stringify(s.report)),
      ],
    );
    await client.query("COMMIT");
    const summaries = stored.map((s) =>
      summarizeReport({ report: s.report, sensorId: ids.get(nodeKey(s.report))!, receivedAt: s.receivedAt }),
    );
    return { outcomes, summaries };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
