import { createDb, createLiveBus, createPgPool, type Db, type LiveBus, type PgPool } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { PROTOCOL_VERSION, type StatsReport } from "@tapfleet/sensor";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureReportPartitions } from "./partitions.ts";
import { subscribeTopic } from "../live/topics.ts";
import { createReportWriter, type ReportWriter } from "./report-writer.ts";
import { STATS_TOPIC } from "./summary.ts";

let database: TestDatabase;
let db: Db;
let pool: PgPool;
let bus: LiveBus;
let writer: ReportWriter;
const errors: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
  pool = createPgPool({
    url: database.url,
    max: 2,
    onError: (error) => errors.push(`pool: ${error.message}`),
  });
  bus = await createLiveBus({ url: database.url });
  writer = createReportWriter({ pool, bus, onError: (_error, context) => errors.push(context) });
});
afterAll(async () => {
  await bus?.close();
  await pool?.end();
  await db?.$disconnect();
  await database?.stop();
});
beforeEach(async () => {
  await database.reset();
  await ensureReportPartitions({ db });
  await db.cluster.create({ data: { id: "c1" } });
  errors.length = 0;
});

const startedAt = Date.parse("2026-11-30T08:00:00Z");
let nonces = 0;
function item(options: {
  node?: string;
  sequence: number;
  clusterId?: string;
  body?: string;
  nonce?: string;
}) {
  const report: StatsReport = {
    protocolVersion: PROTOCOL_VERSION,
    agent: {
      clusterId: options.clusterId ?? "c1",
      nodeName: options.node ?? "node-a",
      podName: "agent-x",
      agentVersion: "0.1.0",
      configHash: "0123456789abcdef",
      startedAt,
      sequence: options.sequence,
    },
    sentAt: startedAt + options.sequence * 1000,
    interfaces: [
      {
        name: "eth0",
        packets: 100 + options.sequence,
        bytes: 6400,
        kernelDrops: 0,
        interfaceDrops: 0,
        protocols: { ipv4: 100, ipv6: 0, tcp: 100, udp: 0, icmp: 0, other: 0 },
        topTalkers: [],
      },
    ],
    upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
  };
  return {
    keyId: "key-1",
    nonce: options.nonce ?? `nonce-${String(nonces++).padStart(12, "0")}`,
    nonceExpiresAt: new Date(Date.now() + 600_000),
    report,
    body: Buffer.from(options.body ?? JSON.stringify(report)),
    receivedAt: new Date(),
  };
}

const storedRows = () =>
  pool
    .query<{ nodeName: string; sequence: string; report: string }>(
      `SELECT "nodeName", "sequence", "report"::text AS report FROM "SensorReport" ORDER BY "nodeName", "sequence"`,
    )
    .then((result) => result.rows);

describe("report writer", () => {
  it("stores each report as the exact bytes it was signed as", async () => {
    const base = item({ sequence: 0 });
    // Same report, laid out differently from what JSON.stringify would write.
    const body = `{ "protocolVersion": ${PROTOCOL_VERSION},\n  "agent": ${JSON.stringify(base.report.agent)}, "sentAt": ${base.report.sentAt}, "interfaces": ${JSON.stringify(base.report.interfaces)}, "upload": {"chunksSent":0,"bytesSent":0,"chunksDropped":{}} }`;
    expect(JSON.parse(body)).toEqual(base.report);
    expect(await writer.write({ ...base, body: Buffer.from(body) })).toBe("stored");
    expect((await storedRows())[0]?.report).toBe(body);
  });

  it("stores a body that starts with a byte-order mark re-serialised (PostgreSQL's json refuses the mark)", async () => {
    const base = item({ sequence: 0 });
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), base.body]);
    expect(await writer.write({ ...base, body })).toBe("stored");
    expect(JSON.parse((await storedRows())[0]!.report)).toEqual(base.report);
  });

  it("decides replays, resends and new reports of one batch in arrival order", async () => {
    expect(await writer.write(item({ sequence: 5 }))).toBe("stored");
    // All written in the same turn of the event loop: one batch.
    const outcomes = await Promise.all([
      writer.write(item({ sequence: 6, nonce: "repeated-nonce-0001" })),
      writer.write(item({ sequence: 7, nonce: "repeated-nonce-0001" })), // same nonce: a replay
      writer.write(item({ sequence: 5 })), // resent, already stored
      writer.write(item({ sequence: 8 })),
      writer.write(item({ sequence: 8 })), // resent within the batch
      writer.write(item({ node: "node-new", sequence: 0 })), // a sensor seen for the first time
    ]);
    expect(outcomes).toEqual(["stored", "replayed", "duplicate", "stored", "duplicate", "stored"]);
    expect((await storedRows()).map((r) => `${r.nodeName}#${r.sequence}`)).toEqual([
      "node-a#5",
      "node-a#6",
      "node-a#8",
      "node-new#0",
    ]);
    const sensors = await db.sensor.findMany({ orderBy: { nodeName: "asc" } });
    expect(sensors.map((s) => [s.nodeName, s.lastSequence])).toEqual([
      ["node-a", 8n],
      ["node-new", 0n],
    ]);
    // The summary names the sensor's own row, also for the one created in this batch.
    for (const sensor of sensors)
      expect(sensor.lastSummary).toMatchObject({ sensorId: sensor.id, nodeName: sensor.nodeName });
  });

  it("writes the rest of a batch when the database refuses one report, and rejects only that one", async () => {
    const results = await Promise.allSettled([
      writer.write(item({ node: "node-a", sequence: 0 })),
      writer.write(item({ node: "node-b", sequence: 0, clusterId: "deleted-cluster" })),
      writer.write(item({ node: "node-c", sequence: 0 })),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await storedRows()).map((r) => r.nodeName)).toEqual(["node-a", "node-c"]);
    expect(errors.some((context) => context.includes("retrying one by one"))).toBe(true);
    // Nothing of the refused report remains, not even its nonce.
    expect(await db.ingestNonce.count()).toBe(2);
  });

  it("publishes a summary of every stored report, in order", async () => {
    const controller = new AbortController();
    const received: { nodeName: string; sequence: number }[] = [];
    const reading = (async () => {
      for await (const message of subscribeTopic(bus, STATS_TOPIC, controller.signal)) {
        received.push(message);
        if (received.length === 40) controller.abort();
      }
    })();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => writer.write(item({ node: `node-${i % 4}`, sequence: i }))),
    );
    await reading;
    expect(received.map((r) => `${r.nodeName}#${r.sequence}`)).toEqual(
      Array.from({ length: 40 }, (_, i) => `node-${i % 4}#${i}`),
    );
  });
});
