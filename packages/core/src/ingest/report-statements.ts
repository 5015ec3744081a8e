// The SQL of the report writer: the statements that write one batch of
// reports in one transaction, and the plans they are kept to. See
// docs/adr/0005-stats-storage.md ("Writing reports: group commit").
import { randomUUID } from "node:crypto";
import type { PgPool, PgPoolClient } from "@tapfleet/db";
import type { StatsReport } from "@tapfleet/sensor";
import { dedupeReports, judgeNonces, nodeKey, type SensorState, type WriteOutcome } from "./report-dedupe.ts";
import { summarizeReport, type ReportSummary } from "./summary.ts";

/** One report to write, with the nonce that signed it. */
export interface ReportWrite {
  keyId: string;
  nonce: string;
  nonceExpiresAt: Date;
  report: StatsReport;
  /** The request body the report was decoded from, stored as it came. */
  body?: Uint8Array;
  receivedAt: Date;
}

const UTF8_BOM = 0xef;

/**
 * The report as stored: the body exactly as signed (it is valid UTF-8 JSON,
 * checked by decoding it), so nothing is serialised again. A body that starts
 * with a byte-order mark (which JSON.parse accepted after decoding but
 * PostgreSQL's json type refuses) is stored re-serialised instead.
 */
function storedReport(item: ReportWrite): Buffer {
  const body = item.body;
  if (body && body.byteLength > 0 && body[0] !== UTF8_BOM)
    return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.from(JSON.stringify(item.report));
}

/**
 * Many JSON documents as one binary parameter plus offsets and lengths, cut
 * apart in SQL. Arrays of large JSON strings would be escaped by
 * node-postgres and parsed back by PostgreSQL, which costs more than the
 * rest of the statement.
 */
function packDocuments(documents: readonly Buffer[]): { blob: Buffer; offsets: number[]; lengths: number[] } {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let offset = 0;
  for (const document of documents) {
    offsets.push(offset + 1); // substring() counts from 1
    lengths.push(document.byteLength);
    offset += document.byteLength;
  }
  return { blob: Buffer.concat(documents, offset), offsets, lengths };
}

// Named statements: each pooled connection parses and plans them once (see
// writeBatch for how the plans are kept to index lookups).
const STATEMENTS = {
  // The nonces go in, and the sensors of the whole batch are locked (in id
  // order, so two batches cannot deadlock), in one round trip. The
  // sensors of replayed requests are locked too; that costs nothing.
  insertNoncesLockSensors: {
    name: "ingest-insert-nonces-lock-sensors",
    text: `WITH fresh AS (
             INSERT INTO "IngestNonce" ("keyId", "nonce", "expiresAt")
             SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
             ON CONFLICT DO NOTHING RETURNING "keyId", "nonce"
           ), locked AS (
             SELECT s.id, s."clusterId", s."nodeName",
                    (extract(epoch FROM s."agentStartedAt") * 1000)::bigint::text AS started, s."lastSequence"::text AS seq
             FROM "Sensor" s
             JOIN unnest($4::text[], $5::text[]) AS n(cluster, node) ON s."clusterId" = n.cluster AND s."nodeName" = n.node
             -- Nonces first, then sensor locks, in every batch.
             WHERE (SELECT count(*) FROM fresh) >= 0
             ORDER BY s.id FOR UPDATE OF s
           )
           SELECT (SELECT coalesce(json_agg(json_build_array("keyId", "nonce")), '[]') FROM fresh) AS fresh,
                  (SELECT coalesce(json_agg(json_build_array(id, "clusterId", "nodeName", started, seq)), '[]')
                   FROM locked) AS sensors`,
  },
  lockSensors: {
    name: "ingest-lock-sensors",
    text: `WITH locked AS (
             SELECT s.id, s."clusterId", s."nodeName",
                    (extract(epoch FROM s."agentStartedAt") * 1000)::bigint::text AS started, s."lastSequence"::text AS seq
             FROM "Sensor" s
             JOIN unnest($1::text[], $2::text[]) AS n(cluster, node) ON s."clusterId" = n.cluster AND s."nodeName" = n.node
             ORDER BY s.id FOR UPDATE OF s
           )
           SELECT coalesce(json_agg(json_build_array(id, "clusterId", "nodeName", started, seq)), '[]') AS sensors
           FROM locked`,
  },
  insertSensors: {
    name: "ingest-insert-sensors",
    text: `INSERT INTO "Sensor" ("id", "clusterId", "nodeName", "podName", "agentVersion", "configHash",
                                 "agentStartedAt", "lastSequence", "firstSeenAt", "lastSeenAt")
           SELECT id, cluster, node, pod, version, hash, 'epoch', -1, seen, seen
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                AS u(id, cluster, node, pod, version, hash, seen)
           ON CONFLICT ("clusterId", "nodeName") DO NOTHING`,
  },
  // The sensors' new state and the new reports, in one statement.
  updateSensorsInsertReports: {
    name: "ingest-update-sensors-insert-reports",
    text: `WITH updated AS (
             UPDATE "Sensor" AS s SET
               "podName" = u.pod, "agentVersion" = u.version, "configHash" = u.hash,
               "agentStartedAt" = u.started, "lastSequence" = u.seq, "lastSeenAt" = u.seen,
               "lastSummary" = convert_from(substring($10::bytea FROM u.off FOR u.len), 'UTF8')::json
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[],
                         $7::timestamptz[], $8::int[], $9::int[])
                  AS u(id, pod, version, hash, started, seq, seen, off, len)
             WHERE s.id = u.id
           )
           INSERT INTO "SensorReport" ("receivedAt", "sensorId", "clusterId", "nodeName", "agentStartedAt",
                                       "sequence", "sentAt", "report")
           SELECT received, sensor, cluster, node, started, seq, sent,
                  convert_from(substring($20::bytea FROM off FOR len), 'UTF8')::json
           FROM unnest($11::timestamptz[], $12::uuid[], $13::text[], $14::text[], $15::timestamptz[], $16::bigint[],
                       $17::timestamptz[], $18::int[], $19::int[])
                AS r(received, sensor, cluster, node, started, seq, sent, off, len)
`,
  },
} as const;

/**
 * Writes one batch in one transaction and answers one outcome per report, in
 * order, with the summaries of the stored reports. Commits before it returns;
 * throws, with nothing of the batch written, if PostgreSQL refuses it.
 */
export async function writeReportBatch(options: {
  pool: PgPool;
  batch: readonly ReportWrite[];
}): Promise<{ outcomes: WriteOutcome[]; summaries: ReportSummary[] }> {
  const { batch } = options;
  const client = await options.pool.connect();
  try {
    // The statements below are prepared once per connection, and after a few
    // executions PostgreSQL reuses a generic plan, which cannot see how many
    // elements an array parameter holds: left alone it chose to scan the whole
    // Sensor table. Every statement here wants index lookups per array element
    // (nested loops); planning each execution instead cost more PostgreSQL
    // CPU per report than the lookups themselves at small batch sizes.
    await client.query(
      "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
    );
    // 1. Nonces: the ones the insert skips were seen before (here or on
    // another replica). Rows go in in key order so that two batches in flight
    // take their locks in the same order and cannot deadlock. In the same
    // round trip, the batch's sensors are locked and read.
    const byNonce = [...batch].sort((a, b) =>
      a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.nonce < b.nonce ? -1 : 1,
    );
    const batchNodes = [...new Map(batch.map((b) => [nodeKey(b.report.agent), b.report.agent])).values()];
    const first = await client.query<{ fresh: [string, string][]; sensors: SensorRow[] }>({
      ...STATEMENTS.insertNoncesLockSensors,
      values: [
        byNonce.map((b) => b.keyId),
        byNonce.map((b) => b.nonce),
        byNonce.map((b) => b.nonceExpiresAt),
        batchNodes.map((a) => a.clusterId),
        batchNodes.map((a) => a.nodeName),
      ],
    });
    const nonces = judgeNonces({ batch, fresh: first.rows[0]!.fresh });
    const freshItems = batch.filter((_, i) => nonces[i] === "stored");
    if (freshItems.length === 0) {
      await client.query("COMMIT");
      return { outcomes: nonces, summaries: [] };
    }

    // 2. A node seen for the first time gets a placeholder row (older than
    // any report), so that from here on every sensor exists and the rest is
    // one UPDATE.
    const state = sensorState(first.rows[0]!.sensors);
    const nodes = [...new Map(freshItems.map((b) => [nodeKey(b.report.agent), b])).values()];
    const missing = nodes.filter((n) => !state.has(nodeKey(n.report.agent)));
    if (missing.length > 0) {
      await client.query({
        ...STATEMENTS.insertSensors,
        values: [
          missing.map(() => randomUUID()),
          missing.map((n) => n.report.agent.clusterId),
          missing.map((n) => n.report.agent.nodeName),
          missing.map((n) => n.report.agent.podName),
          missing.map((n) => n.report.agent.agentVersion),
          missing.map((n) => n.report.agent.configHash),
          missing.map((n) => n.receivedAt),
        ],
      });
      // Ours, or another replica's that committed first: lock them too.
      for (const [key, sensor] of await lockSensors(
        client,
        missing.map((n) => n.report.agent),
      ))
        state.set(key, sensor);
    }

    // 3. In arrival order: a report already stored (same agent start, sequence
    // not newer) is a resend whose answer was lost: acknowledge, don't store.
    const { outcomes, stored, latest } = dedupeReports({ batch, nonces, sensors: state });
    if (stored.length === 0) {
      await client.query("COMMIT");
      return { outcomes, summaries: [] };
    }
    const summaryOf = new Map(
      stored.map(({ index, sensorId }) => {
        const item = batch[index]!;
        return [index, summarizeReport({ report: item.report, sensorId, receivedAt: item.receivedAt })];
      }),
    );

    // 4. One update for every sensor that sent something new, in id order
    // (the order the rows were locked in).
    const updates = latest.map(({ index, sensorId }) => ({ item: batch[index]!, id: sensorId }));
    const summaries = packDocuments(
      latest.map(({ index }) => Buffer.from(JSON.stringify(summaryOf.get(index)!))),
    );
    // 5. Every new report, each as the bytes it came as; in the same statement.
    const inserts = stored.map(({ index, sensorId }) => ({ item: batch[index]!, sensorId }));
    const reports = packDocuments(inserts.map((s) => storedReport(s.item)));
    await client.query({
      ...STATEMENTS.updateSensorsInsertReports,
      values: [
        updates.map((u) => u.id),
        updates.map((u) => u.item.report.agent.podName),
        updates.map((u) => u.item.report.agent.agentVersion),
        updates.map((u) => u.item.report.agent.configHash),
        updates.map((u) => new Date(u.item.report.agent.startedAt)),
        updates.map((u) => String(u.item.report.agent.sequence)),
        updates.map((u) => u.item.receivedAt),
        summaries.offsets,
        summaries.lengths,
        summaries.blob,
        inserts.map((s) => s.item.receivedAt),
        inserts.map((s) => s.sensorId),
        inserts.map((s) => s.item.report.agent.clusterId),
        inserts.map((s) => s.item.report.agent.nodeName),
        inserts.map((s) => new Date(s.item.report.agent.startedAt)),
        inserts.map((s) => String(s.item.report.agent.sequence)),
        inserts.map((s) => new Date(s.item.report.sentAt)),
        reports.offsets,
        reports.lengths,
        reports.blob,
      ],
    });
    await client.query("COMMIT");
    return { outcomes, summaries: stored.map(({ index }) => summaryOf.get(index)!) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** id, clusterId, nodeName, agent start (epoch ms) and last sequence, as text where they are numbers. */
type SensorRow = [string, string, string, string, string];

function sensorState(rows: readonly SensorRow[]): Map<string, SensorState> {
  return new Map(
    rows.map(([id, clusterId, nodeName, startedAt, sequence]) => [
      nodeKey({ clusterId, nodeName }),
      { id, agentStartedAt: Number(startedAt), lastSequence: BigInt(sequence) },
    ]),
  );
}

/** Locks the sensor rows of these nodes (in id order, so batches cannot deadlock) and returns their state. */
async function lockSensors(
  client: PgPoolClient,
  agents: readonly { clusterId: string; nodeName: string }[],
): Promise<Map<string, SensorState>> {
  const { rows } = await client.query<{ sensors: SensorRow[] }>({
    ...STATEMENTS.lockSensors,
    values: [agents.map((a) => a.clusterId), agents.map((a) => a.nodeName)],
  });
  return sensorState(rows[0]!.sensors);
}
