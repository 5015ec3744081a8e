// Group commit for stats reports. Requests that arrive while a batch is being
// written wait for the next one; each batch is one transaction of a few
// multi-row statements, and every request is answered only after the batch
// holding its report has committed. This turns ~6 round trips per report into
// ~6 per batch, which is what lets one small server take thousands of
// reports a second without giving up "acknowledged means stored".
import { randomUUID } from "node:crypto";
import type { LiveBus, PgPool, PgPoolClient } from "@tapfleet/db";
import type { StatsReport } from "@tapfleet/sensor";
import { summarizeReport, type ReportSummary } from "./summary.ts";

export type WriteOutcome = "stored" | "duplicate" | "replayed";

interface Pending {
  keyId: string;
  nonce: string;
  nonceExpiresAt: Date;
  report: StatsReport;
  /** The request body the report was decoded from, stored as it came. */
  body?: Uint8Array;
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

  const run = async (batch: Pending[]): Promise<void> => {
    let written: Awaited<ReturnType<typeof writeBatch>>;
    try {
      written = await writeBatch(options.pool, batch);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One report the database refuses must not fail the others of its
      // batch: nothing of the batch was written, so write each on its own.
      options.onError?.(error, `writing a batch of ${batch.length} reports; retrying one by one`);
      await Promise.all(batch.map((item) => run([item])));
      return;
    }
    batch.forEach((item, i) => item.resolve(written.outcomes[i]!));
    if (written.summaries.length > 0) {
      await options.bus
        .publishMany(STATS_TOPIC, written.summaries)
        .catch((error: unknown) => options.onError?.(error, "publishing reports"));
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

/** Builds `($1::t1, $2::t2, …), (…)` for rows of `types.length` parameters each. */
function valuesList(rows: number, types: readonly string[]): string {
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * types.length;
    tuples.push(`(${types.map((type, i) => `$${base + i + 1}::${type}`).join(", ")})`);
  }
  return tuples.join(", ");
}

const UTF8_BOM = 0xef;

/**
 * The report as stored: the body exactly as signed (it is valid UTF-8 JSON,
 * checked by decoding it), sent to PostgreSQL as bytes, so nothing is
 * serialised again. A body that starts with a byte-order mark (which
 * JSON.parse accepted after decoding but PostgreSQL's json type refuses) is
 * stored re-serialised instead.
 */
function storedReport(item: Pending): Buffer | string {
  const body = item.body;
  if (body && body.byteLength > 0 && body[0] !== UTF8_BOM)
    return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return JSON.stringify(item.report);
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
    const freshItems = batch.filter((_, i) => outcomes[i] === "stored");
    if (freshItems.length === 0) {
      await client.query("COMMIT");
      return { outcomes, summaries: [] };
    }

    // 2. The sensors of this batch, locked so that batches and replicas
    // writing the same node serialise. A node seen for the first time gets a
    // placeholder row first (older than any report), so that from here on
    // every sensor exists and the rest is one UPDATE.
    const nodeKey = (r: StatsReport) => `${r.agent.clusterId}\u0000${r.agent.nodeName}`;
    const nodes = [...new Map(freshItems.map((b) => [nodeKey(b.report), b])).values()];
    const state = await lockSensors(
      client,
      nodes.map((n) => n.report.agent),
    );
    const missing = nodes.filter((n) => !state.has(nodeKey(n.report)));
    if (missing.length > 0) {
      await client.query(
        `INSERT INTO "Sensor" ("id", "clusterId", "nodeName", "podName", "agentVersion", "configHash",
                               "agentStartedAt", "lastSequence", "firstSeenAt", "lastSeenAt")
         SELECT id, cluster, node, pod, version, hash, 'epoch', -1, seen, seen
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
              AS u(id, cluster, node, pod, version, hash, seen)
         ON CONFLICT ("clusterId", "nodeName") DO NOTHING`,
        [
          missing.map(() => randomUUID()),
          missing.map((n) => n.report.agent.clusterId),
          missing.map((n) => n.report.agent.nodeName),
          missing.map((n) => n.report.agent.podName),
          missing.map((n) => n.report.agent.agentVersion),
          missing.map((n) => n.report.agent.configHash),
          missing.map((n) => n.receivedAt),
        ],
      );
      // Ours, or another replica's that committed first: lock them too.
      for (const [key, sensor] of await lockSensors(
        client,
        missing.map((n) => n.report.agent),
      ))
        state.set(key, sensor);
    }

    // 3. In arrival order: a report already stored (same agent start, sequence
    // not newer) is a resend whose answer was lost: acknowledge, don't store.
    const newest = new Map<string, { item: Pending; summary: ReportSummary }>();
    const stored: { item: Pending; sensorId: string; summary: ReportSummary }[] = [];
    batch.forEach((item, i) => {
      if (outcomes[i] !== "stored") return;
      const key = nodeKey(item.report);
      const sensor = state.get(key)!;
      const sequence = BigInt(item.report.agent.sequence);
      if (sensor.agentStartedAt === item.report.agent.startedAt && sequence <= sensor.lastSequence) {
        outcomes[i] = "duplicate";
        return;
      }
      sensor.agentStartedAt = item.report.agent.startedAt;
      sensor.lastSequence = sequence;
      const summary = summarizeReport({
        report: item.report,
        sensorId: sensor.id,
        receivedAt: item.receivedAt,
      });
      stored.push({ item, sensorId: sensor.id, summary });
      newest.set(key, { item, summary });
    });
    if (stored.length === 0) {
      await client.query("COMMIT");
      return { outcomes, summaries: [] };
    }

    // 4. One update for every sensor that sent something new, in id order
    // (the order the rows were locked in).
    const updates = [...newest.entries()]
      .map(([key, value]) => ({ ...value, id: state.get(key)!.id }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    await client.query(
      `UPDATE "Sensor" AS s SET
         "podName" = u.pod, "agentVersion" = u.version, "configHash" = u.hash,
         "agentStartedAt" = u.started, "lastSequence" = u.seq, "lastSeenAt" = u.seen, "lastSummary" = u.summary
       FROM (VALUES ${valuesList(updates.length, SENSOR_UPDATE_TYPES)})
            AS u(id, pod, version, hash, started, seq, seen, summary)
       WHERE s.id = u.id`,
      updates.flatMap(({ id, item, summary }) => [
        id,
        item.report.agent.podName,
        item.report.agent.agentVersion,
        item.report.agent.configHash,
        new Date(item.report.agent.startedAt),
        String(item.report.agent.sequence),
        item.receivedAt,
        JSON.stringify(summary),
      ]),
    );

    // 5. Every new report, in one insert; parameters are sent one by one
    // (no array literal to escape and parse), the report as its raw bytes.
    await client.query(
      `INSERT INTO "SensorReport" ("receivedAt", "sensorId", "clusterId", "nodeName", "agentStartedAt", "sequence", "sentAt", "report")
       VALUES ${valuesList(stored.length, REPORT_INSERT_TYPES)}`,
      stored.flatMap(({ item, sensorId }) => [
        item.receivedAt,
        sensorId,
        item.report.agent.clusterId,
        item.report.agent.nodeName,
        new Date(item.report.agent.startedAt),
        String(item.report.agent.sequence),
        new Date(item.report.sentAt),
        storedReport(item),
      ]),
    );
    await client.query("COMMIT");
    return { outcomes, summaries: stored.map((s) => s.summary) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const SENSOR_UPDATE_TYPES = ["uuid", "text", "text", "text", "timestamptz", "bigint", "timestamptz", "json"];
const REPORT_INSERT_TYPES = [
  "timestamptz",
  "uuid",
  "text",
  "text",
  "timestamptz",
  "bigint",
  "timestamptz",
  "json",
];

/** Locks the sensor rows of these nodes (in id order, so batches cannot deadlock) and returns their state. */
async function lockSensors(
  client: PgPoolClient,
  agents: readonly { clusterId: string; nodeName: string }[],
): Promise<Map<string, SensorState>> {
  const { rows } = await client.query<{
    id: string;
    clusterId: string;
    nodeName: string;
    agentStartedAt: Date;
    lastSequence: string;
  }>(
    `SELECT s.id, s."clusterId", s."nodeName", s."agentStartedAt", s."lastSequence" FROM "Sensor" s
     JOIN unnest($1::text[], $2::text[]) AS n(cluster, node) ON s."clusterId" = n.cluster AND s."nodeName" = n.node
     ORDER BY s.id FOR UPDATE OF s`,
    [agents.map((a) => a.clusterId), agents.map((a) => a.nodeName)],
  );
  return new Map(
    rows.map((row) => [
      `${row.clusterId}\u0000${row.nodeName}`,
      { id: row.id, agentStartedAt: row.agentStartedAt.getTime(), lastSequence: BigInt(row.lastSequence) },
    ]),
  );
}
