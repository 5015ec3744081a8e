import { randomBytes } from "node:crypto";
import { dropExpiredReportPartitions, ensureReportPartitions } from "@tapfleet/core";
import {
  encodeChunkUpload,
  encodeStatsReport,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  signRequest,
  type StatsReport,
} from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awaitLiveSummary, startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
let operator: string;
let cluster: { clusterId: string; keyId: string; secret: string };

beforeAll(async () => {
  t = await startTestServer();
  operator = (await t.userWithToken("operator")).token;
  const created = await t.trpc("clusters.create", {
    input: { id: "prod-eu-1", displayName: "Production EU" },
    auth: { bearer: operator },
  });
  expect(created.status).toBe(200);
  cluster = created.body.result?.data as typeof cluster;
});
afterAll(async () => {
  await t?.stop();
});

const startedAt = Date.now() - 60_000;
let sequence = 0;
function report(
  overrides: { nodeName?: string; clusterId?: string; sequence?: number; packets?: number } = {},
): StatsReport {
  return {
    protocolVersion: PROTOCOL_VERSION,
    agent: {
      clusterId: overrides.clusterId ?? "prod-eu-1",
      nodeName: overrides.nodeName ?? "node-a",
      podName: "tapfleet-agent-x1",
      agentVersion: "0.1.0",
      configHash: "0123456789abcdef",
      startedAt,
      sequence: overrides.sequence ?? sequence++,
    },
    sentAt: Date.now(),
    interfaces: [
      {
        name: "eth0",
        packets: overrides.packets ?? 100,
        bytes: 64_000,
        kernelDrops: 1,
        interfaceDrops: 2,
        protocols: { ipv4: 100, ipv6: 0, tcp: 60, udp: 40, icmp: 0, other: 0 },
        topTalkers: [{ address: "10.0.0.7", packets: 50, bytes: 32_000 }],
      },
    ],
    upload: { chunksSent: 3, bytesSent: 9000, chunksDropped: { queue_full: 1 } },
  };
}

function signed(options: {
  path: string;
  body: Uint8Array | string;
  key?: string;
  keyId?: string;
  now?: number;
  nonce?: string;
}) {
  const body = typeof options.body === "string" ? Buffer.from(options.body) : Buffer.from(options.body);
  const headers = signRequest({
    method: "POST",
    path: options.path,
    body,
    keyId: options.keyId ?? cluster.keyId,
    key: options.key ?? cluster.secret,
    now: options.now ?? Date.now(),
    nonce: options.nonce ?? randomBytes(16).toString("base64url"),
  });
  return { headers, body };
}

async function post(
  path: string,
  request: { headers: Record<string, string>; body: Buffer },
  contentType = "application/json",
) {
  const response = await fetch(`${t.url}${path}`, {
    method: "POST",
    headers: { ...request.headers, "content-type": contentType },
    body: new Uint8Array(request.body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { ok: boolean; reason?: string; message?: string },
  };
}

const reportCount = () => t.db.sensorReport.count();

describe("ingest: reports", () => {
  it("stores a signed report, updates the sensor's last-seen, and shows it in the sensor list", async () => {
    const before = await reportCount();
    const result = await post(
      INGEST_PATHS.reports,
      signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(report({ packets: 123 })) }),
    );
    expect(result).toMatchObject({ status: 200, body: { ok: true } });
    expect(await reportCount()).toBe(before + 1);
    const sensors = await t.trpc("sensors.list", { auth: { bearer: operator } });
    const items = (
      sensors.body.result?.data as {
        items: {
          nodeName: string;
          lastSeenAt: string;
          lastSummary: { packets: number; kernelDrops: number };
        }[];
      }
    ).items;
    const sensor = items.find((s) => s.nodeName === "node-a")!;
    expect(sensor.lastSummary).toMatchObject({ packets: 123, kernelDrops: 1 });
    expect(Date.now() - Date.parse(sensor.lastSeenAt)).toBeLessThan(10_000);
  });

  it("shows how many reports an agent lost, from the counter its next report carries", async () => {
    const summaryOf = async (nodeName: string) => {
      const listed = await t.trpc("sensors.list", { auth: { bearer: operator } });
      const items = (
        listed.body.result?.data as { items: { nodeName: string; lastSummary: { upload: unknown } }[] }
      ).items;
      return items.find((s) => s.nodeName === nodeName)?.lastSummary.upload;
    };
    const plain = report({ nodeName: "node-lossy" });
    expect(
      (
        await post(
          INGEST_PATHS.reports,
          signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(plain) }),
        )
      ).status,
    ).toBe(200);
    expect(await summaryOf("node-lossy")).toMatchObject({ chunksDropped: 1, reportsDropped: 0 });
    const lossy = report({ nodeName: "node-lossy" });
    lossy.upload.reportsDropped = { outbox_full: 4, rejected: 1 };
    expect(
      (
        await post(
          INGEST_PATHS.reports,
          signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(lossy) }),
        )
      ).status,
    ).toBe(200);
    expect(await summaryOf("node-lossy")).toMatchObject({ chunksDropped: 1, reportsDropped: 5 });
  });

  it("lands reports in today's partition of the report table", async () => {
    const rows = await t.db.$queryRawUnsafe<{ partition: string }[]>(
      `SELECT DISTINCT tableoid::regclass::text AS partition FROM "SensorReport"`,
    );
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    expect(rows.map((r) => r.partition)).toEqual([`"SensorReport_p${today}"`]);
  });

  it.each([
    [
      "a tampered body",
      () => {
        const request = signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(report()) });
        return {
          ...request,
          body: Buffer.from(request.body.toString().replace('"packets":100', '"packets":999')),
        };
      },
      400,
      "bad_digest",
    ],
    [
      "a body and digest both replaced (signature no longer matches)",
      () => {
        const forged = signed({
          path: INGEST_PATHS.reports,
          body: encodeStatsReport(report()),
          key: "not-the-key",
        });
        return forged;
      },
      401,
      "bad_signature",
    ],
    [
      "a stale timestamp",
      () =>
        signed({
          path: INGEST_PATHS.reports,
          body: encodeStatsReport(report()),
          now: Date.now() - 10 * 60_000,
        }),
      401,
      "stale",
    ],
    [
      "an unknown key id",
      () => signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(report()), keyId: "nobody" }),
      401,
      "unknown_key",
    ],
    [
      "a report for another cluster",
      () =>
        signed({
          path: INGEST_PATHS.reports,
          body: encodeStatsReport(report({ clusterId: "someone-else" })),
        }),
      403,
      "unknown_cluster",
    ],
    [
      "a body that is not a report",
      () =>
        signed({ path: INGEST_PATHS.reports, body: JSON.stringify({ protocolVersion: 1, hello: "world" }) }),
      400,
      "invalid_body",
    ],
    [
      "no signature at all",
      () => ({ headers: {}, body: Buffer.from(encodeStatsReport(report())) }),
      400,
      "malformed",
    ],
  ] as const)("refuses %s and stores nothing", async (_name, make, status, reason) => {
    const before = await reportCount();
    const result = await post(INGEST_PATHS.reports, make());
    expect(result.status).toBe(status);
    expect(result.body).toMatchObject({ ok: false, reason });
    expect(result.body.message).toBeTruthy();
    expect(await reportCount()).toBe(before);
  });

  it("refuses a replayed request", async () => {
    const request = signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(report()) });
    expect((await post(INGEST_PATHS.reports, request)).status).toBe(200);
    const before = await reportCount();
    const replay = await post(INGEST_PATHS.reports, request);
    expect(replay).toMatchObject({ status: 401, body: { reason: "replayed" } });
    expect(await reportCount()).toBe(before);
  });

  it("refuses an oversized body with 413 before reading it all", async () => {
    const before = await reportCount();
    const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
    const result = await post(INGEST_PATHS.reports, signed({ path: INGEST_PATHS.reports, body: big }));
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ ok: false, reason: "too_large" });
    expect(await reportCount()).toBe(before);
  });

  it("acknowledges a resent report (its answer was lost) without storing it twice", async () => {
    const body = encodeStatsReport(report({ nodeName: "node-resend", sequence: 7 }));
    expect((await post(INGEST_PATHS.reports, signed({ path: INGEST_PATHS.reports, body }))).status).toBe(200);
    expect((await post(INGEST_PATHS.reports, signed({ path: INGEST_PATHS.reports, body }))).status).toBe(200);
    expect(await t.db.sensorReport.count({ where: { nodeName: "node-resend" } })).toBe(1);
  });

  it("stores every report of many agents sending at once, and lets only one of two simultaneous copies through", async () => {
    const before = await reportCount();
    const nodes = Array.from({ length: 20 }, (_, i) => `node-burst-${i}`);
    // Each agent sends its reports one after another, as the agent does; the agents run concurrently.
    const results = await Promise.all(
      nodes.map(async (nodeName) => {
        const statuses: number[] = [];
        for (let sequence = 0; sequence < 10; sequence++) {
          const body = encodeStatsReport(report({ nodeName, sequence }));
          statuses.push(
            (await post(INGEST_PATHS.reports, signed({ path: INGEST_PATHS.reports, body }))).status,
          );
        }
        return statuses;
      }),
    );
    expect(results.flat().every((status) => status === 200)).toBe(true);
    expect(await reportCount()).toBe(before + 200);
    const sensors = await t.db.sensor.findMany({ where: { nodeName: { startsWith: "node-burst-" } } });
    expect(sensors).toHaveLength(20);
    expect(sensors.every((sensor) => sensor.lastSequence === 9n)).toBe(true);

    const twin = signed({
      path: INGEST_PATHS.reports,
      body: encodeStatsReport(report({ nodeName: "node-twin", sequence: 0 })),
    });
    const [first, second] = await Promise.all([
      post(INGEST_PATHS.reports, twin),
      post(INGEST_PATHS.reports, twin),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 401]);
    expect([first.body.reason, second.body.reason]).toContain("replayed");
    expect(await t.db.sensorReport.count({ where: { nodeName: "node-twin" } })).toBe(1);
  });

  it("publishes each stored report to live subscribers", async () => {
    const summary = await awaitLiveSummary({
      baseUrl: t.url,
      token: operator,
      nodeName: "node-live",
      input: { clusterId: "prod-eu-1" },
      send: async () => {
        await post(
          INGEST_PATHS.reports,
          signed({
            path: INGEST_PATHS.reports,
            body: encodeStatsReport(report({ nodeName: "node-live", packets: 4242 })),
          }),
        );
      },
    });
    expect(summary).toMatchObject({ nodeName: "node-live", packets: 4242 });
  });
});

describe("ingest: keys", () => {
  it("stores the key encrypted, never in clear, and never returns it in lists", async () => {
    const rows = await t.db.ingestKey.findMany();
    expect(JSON.stringify(rows)).not.toContain(cluster.secret);
    const listed = await t.trpc("clusters.list", { auth: { bearer: operator } });
    expect(JSON.stringify(listed.body)).not.toContain(cluster.secret);
    expect(listed.body.result?.data).toMatchObject({
      items: [{ id: "prod-eu-1", keys: [{ keyId: "prod-eu-1" }] }],
    });
  });

  it("accepts the old and the new key during rotation, and only the new one after the grace period", async () => {
    const other = await t.trpc("clusters.create", { input: { id: "rotating" }, auth: { bearer: operator } });
    const first = other.body.result?.data as typeof cluster;
    const send = (key: string, nodeName: string) =>
      post(
        INGEST_PATHS.reports,
        signed({
          path: INGEST_PATHS.reports,
          keyId: "rotating",
          key,
          body: encodeStatsReport(report({ clusterId: "rotating", nodeName })),
        }),
      );
    const rotated = await t.trpc("clusters.rotateKey", {
      input: { id: "rotating", graceHours: 1 },
      auth: { bearer: operator },
    });
    const second = rotated.body.result?.data as { secret: string };
    expect((await send(first.secret, "n1")).status).toBe(200);
    expect((await send(second.secret, "n2")).status).toBe(200);
    await t.trpc("clusters.rotateKey", {
      input: { id: "rotating", graceHours: 0 },
      auth: { bearer: operator },
    });
    expect((await send(second.secret, "n3")).body).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("lets only operators register clusters, naming a bad id", async () => {
    const viewer = (await t.userWithToken("viewer")).token;
    expect(
      (await t.trpc("clusters.create", { input: { id: "nope" }, auth: { bearer: viewer } })).status,
    ).toBe(403);
    const bad = await t.trpc("clusters.create", { input: { id: "Not_A_Label" }, auth: { bearer: operator } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^id: must be a DNS label/);
  });
});

/** A classic little-endian pcap with `count` Ethernet frames of 60 bytes. */
function pcapFile(count: number, firstUs: number): { bytes: Uint8Array; lastUs: number } {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records: Buffer[] = [];
  let us = firstUs;
  for (let i = 0; i < count; i++) {
    us = firstUs + i * 1000;
    const record = Buffer.alloc(16 + 60);
    record.writeUInt32LE(Math.floor(us / 1e6), 0);
    record.writeUInt32LE(us % 1e6, 4);
    record.writeUInt32LE(60, 8);
    record.writeUInt32LE(60, 12);
    record[16 + 59] = i & 0xff;
    records.push(record);
  }
  return { bytes: Buffer.concat([header, ...records]), lastUs: us };
}

describe("ingest: packet chunks", () => {
  it("keeps a bounded ring per sensor and serves it as one pcap", async () => {
    const firstUs = Date.now() * 1000;
    let sent = 0;
    for (let i = 0; i < 70; i++) {
      const { bytes, lastUs } = pcapFile(3, firstUs + i * 10_000);
      const metadata = {
        protocolVersion: PROTOCOL_VERSION,
        agent: report({ nodeName: "node-chunks" }).agent,
        interface: "eth0",
        firstPacketAtUs: firstUs + i * 10_000,
        lastPacketAtUs: lastUs,
        packetCount: 3,
        pcapBytes: bytes.byteLength,
      } as const;
      const result = await post(
        INGEST_PATHS.chunks,
        signed({ path: INGEST_PATHS.chunks, body: encodeChunkUpload(metadata, bytes) }),
        "application/vnd.tapfleet.chunk.v1",
      );
      expect(result.status, JSON.stringify(result.body)).toBe(200);
      sent += 1;
    }
    expect(sent).toBe(70);
    const sensor = await t.db.sensor.findFirstOrThrow({ where: { nodeName: "node-chunks" } });
    expect(await t.db.packetChunk.count({ where: { sensorId: sensor.id } })).toBe(64);

    const download = await fetch(`${t.url}/api/v1/sensors/${sensor.id}/pcap`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/vnd.tcpdump.pcap");
    const file = Buffer.from(await download.arrayBuffer());
    expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(file.byteLength).toBe(24 + 64 * 3 * (16 + 60));
    expect(download.headers.get("x-tapfleet-packets")).toBe(String(64 * 3));

    const anonymous = await fetch(`${t.url}/api/v1/sensors/${sensor.id}/pcap`);
    expect(anonymous.status).toBe(401);
  });

  it("refuses a chunk whose metadata does not match its pcap, storing nothing", async () => {
    const before = await t.db.packetChunk.count();
    const { bytes, lastUs } = pcapFile(2, Date.now() * 1000);
    const head = JSON.stringify({
      protocolVersion: PROTOCOL_VERSION,
      agent: report({ nodeName: "node-chunks" }).agent,
      interface: "eth0",
      firstPacketAtUs: lastUs - 1000,
      lastPacketAtUs: lastUs,
      packetCount: 5,
      pcapBytes: bytes.byteLength,
    });
    const body = Buffer.concat([Buffer.from(head + "\n"), bytes]);
    const result = await post(
      INGEST_PATHS.chunks,
      signed({ path: INGEST_PATHS.chunks, body }),
      "application/vnd.tapfleet.chunk.v1",
    );
    expect(result).toMatchObject({ status: 400, body: { reason: "invalid_body" } });
    expect(await t.db.packetChunk.count()).toBe(before);
  });
});

describe("report retention", () => {
  it("creates day partitions ahead and drops those past the retention", async () => {
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    const created = await ensureReportPartitions({ db: t.db, now: tenDaysAgo, daysAhead: 0 });
    expect(created).toHaveLength(1);
    const dropped = await dropExpiredReportPartitions({ db: t.db, retentionDays: 7 });
    expect(dropped).toEqual(created);
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    const remaining = await t.db.$queryRawUnsafe<{ name: string }[]>(
      `SELECT relname AS name FROM pg_class WHERE relname = $1`,
      `SensorReport_p${today}`,
    );
    expect(remaining).toHaveLength(1);
  });
});
