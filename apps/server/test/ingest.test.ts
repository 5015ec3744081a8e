import { randomBytes } from "node:crypto";
import { dropExpiredReportPartitions, ensureReportPartitions, removeCluster } from "@tapfleet/core";
import {
  actionPollPath,
  CONTENT_TYPES,
  encodeChunkUpload,
  encodePcap,
  encodeStatsReport,
  INGEST_PATHS,
  LINKTYPE,
  PROTOCOL_VERSION,
  readPcapGlobalHeader,
  signRequest,
  type ActionResultMetadata,
  type ChunkMetadata,
  type StatsReport,
} from "@tapfleet/sensor";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { loadServerEnv } from "../src/env.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD, awaitLiveSummary, startTestServer, type TestServer } from "./harness.ts";

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
  method?: "GET" | "POST";
  path: string;
  body: Uint8Array | string;
  key?: string;
  keyId?: string;
  now?: number;
  nonce?: string;
}) {
  const body = typeof options.body === "string" ? Buffer.from(options.body) : Buffer.from(options.body);
  const headers = signRequest({
    method: options.method ?? "POST",
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
  baseUrl = t.url,
) {
  const response = await fetch(`${baseUrl}${path}`, {
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
  const records = Array.from({ length: count }, (_, i) => {
    const us = firstUs + i * 1000;
    const data = new Uint8Array(60);
    data[59] = i & 0xff;
    return { seconds: Math.floor(us / 1e6), fraction: us % 1e6, data };
  });
  const bytes = encodePcap({ linkType: LINKTYPE.ETHERNET, snapLength: 65535, records });
  return { bytes, lastUs: firstUs + Math.max(0, count - 1) * 1000 };
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
    expect(readPcapGlobalHeader(file)).toMatchObject({ littleEndian: true, nanoseconds: false });
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

// Values the contract refuses because PostgreSQL or a JS Date cannot hold
// them: each is a 400 naming the field, and nothing of the request is stored.
const BEYOND_DATE = 8_640_000_000_000_001; // one past the largest epoch ms a Date holds
const NUL = "\u0000";
const LONE_HIGH = "\ud800";
const LONE_LOW = "\udc00";

describe("ingest: an agent of a removed cluster", () => {
  let replica: RunningServer;
  beforeAll(async () => {
    const env = loadServerEnv({
      DATABASE_URL: t.database.url,
      PORT: "0",
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: "silent",
    });
    replica = await startServer({ env, logger: pino({ level: "silent" }), announce: () => undefined });
  });
  afterAll(async () => {
    await replica?.stop();
  });

  async function register(id: string) {
    const created = await t.trpc("clusters.create", { input: { id }, auth: { bearer: operator } });
    expect(created.status).toBe(200);
    return created.body.result?.data as typeof cluster;
  }
  const sendReport = (key: typeof cluster, baseUrl: string) =>
    post(
      INGEST_PATHS.reports,
      signed({
        path: INGEST_PATHS.reports,
        body: encodeStatsReport(report({ clusterId: key.clusterId, nodeName: "node-left-behind" })),
        keyId: key.keyId,
        key: key.secret,
      }),
      "application/json",
      baseUrl,
    );
  const storedFor = async (clusterId: string) => ({
    reports: await t.db.sensorReport.count({ where: { clusterId } }),
    sensors: await t.db.sensor.count({ where: { clusterId } }),
  });

  it("is refused as an unknown key on every replica once the cluster is removed, its cached key forgotten, and nothing is written", async () => {
    const key = await register("removed-while-reporting");
    // Both replicas verify (and cache) the key.
    expect((await sendReport(key, t.url)).status).toBe(200);
    expect((await sendReport(key, replica.url)).status).toBe(200);
    expect(await storedFor(key.clusterId)).toEqual({ reports: 2, sensors: 1 });

    expect(await removeCluster({ db: t.db, bus: t.bus, clusterId: key.clusterId })).toBe(true);
    // Each replica hears of the removal through the bus a moment later; until then the database
    // refuses the write (403 unknown_cluster). Never a 500, never accepted.
    for (const baseUrl of [t.url, replica.url]) {
      const answers: { status: number; reason?: string | undefined }[] = [];
      const refused = await waitFor(() => sendReport(key, baseUrl), {
        what: `${baseUrl} to forget the removed cluster's key`,
        // Shorter than the key cache (5 s): the key is forgotten because the removal says so.
        timeoutMs: 3_000,
        until: (answer) => {
          answers.push({ status: answer.status, reason: answer.body.reason });
          return answer.status === 401;
        },
      });
      expect(refused.body).toMatchObject({ ok: false, reason: "unknown_key" });
      expect(refused.body.message).toContain("its cluster was removed");
      for (const answer of answers.slice(0, -1))
        expect(answer).toEqual({ status: 403, reason: "unknown_cluster" });
    }
    expect(await storedFor(key.clusterId)).toEqual({ reports: 0, sensors: 0 });
  });

  it("is refused as an unknown cluster (403, not 500) when the cluster goes while its key is still cached", async () => {
    const key = await register("removed-behind-the-cache");
    expect((await sendReport(key, t.url)).status).toBe(200);
    // Gone without telling the replicas (as between a key's check and the write): the key is
    // still cached, and the database refuses the sensor of a cluster it no longer has.
    await t.db.cluster.delete({ where: { id: key.clusterId } });
    await t.db.sensorReport.deleteMany({ where: { clusterId: key.clusterId } });
    const refused = await sendReport(key, t.url);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body).toMatchObject({ ok: false, reason: "unknown_cluster" });
    expect(refused.body.message).toContain('cluster "removed-behind-the-cache" is not known');
    expect(await storedFor(key.clusterId)).toEqual({ reports: 0, sensors: 0 });

    const firstUs = Date.now() * 1000;
    const bytes = pcapFile(1, firstUs);
    const metadata = {
      protocolVersion: PROTOCOL_VERSION,
      agent: report({ clusterId: key.clusterId, nodeName: "node-left-behind" }).agent,
      interface: "eth0",
      firstPacketAtUs: firstUs,
      lastPacketAtUs: bytes.lastUs,
      packetCount: 1,
      pcapBytes: bytes.bytes.byteLength,
    } as const;
    const chunk = await post(
      INGEST_PATHS.chunks,
      signed({
        path: INGEST_PATHS.chunks,
        body: encodeChunkUpload(metadata, bytes.bytes),
        keyId: key.keyId,
        key: key.secret,
      }),
      "application/vnd.tapfleet.chunk.v1",
    );
    expect(chunk.status, JSON.stringify(chunk.body)).toBe(403);
    expect(chunk.body).toMatchObject({ ok: false, reason: "unknown_cluster" });
    expect(await storedFor(key.clusterId)).toEqual({ reports: 0, sensors: 0 });
  });
});

describe("ingest: values the database cannot hold", () => {
  let caseNumber = 0;
  type Mutable = Record<string, unknown> & { agent: Record<string, unknown> };
  const reportCases: Array<[string, string, (r: Mutable) => void]> = [
    ["sentAt beyond what a Date holds", "sentAt", (r) => (r.sentAt = BEYOND_DATE)],
    ["sentAt of 2^53−1", "sentAt", (r) => (r.sentAt = Number.MAX_SAFE_INTEGER)],
    ["agent.startedAt of 2^53−1", "agent.startedAt", (r) => (r.agent.startedAt = Number.MAX_SAFE_INTEGER)],
    ["a NUL in nodeName", "agent.nodeName", (r) => (r.agent.nodeName = `node${NUL}x`)],
    ["a lone surrogate in nodeName", "agent.nodeName", (r) => (r.agent.nodeName = `node-${LONE_HIGH}`)],
    ["a lone low surrogate in podName", "agent.podName", (r) => (r.agent.podName = `pod-${LONE_LOW}x`)],
    ["a NUL in agentVersion", "agent.agentVersion", (r) => (r.agent.agentVersion = `0.1${NUL}`)],
    ["a NUL in clusterId", "agent.clusterId", (r) => (r.agent.clusterId = `prod-eu-1${NUL}`)],
    [
      "a NUL in an interface name",
      "interfaces.0.name",
      (r) => ((r.interfaces as Array<{ name: string }>)[0]!.name = `eth${NUL}0`),
    ],
    [
      "a lone surrogate in an interface name",
      "interfaces.0.name",
      (r) => ((r.interfaces as Array<{ name: string }>)[0]!.name = `eth${LONE_HIGH}`),
    ],
  ];

  it.each(reportCases)(
    "refuses a report with %s (400, naming %s), storing nothing",
    async (_name, field, mutate) => {
      const body = report({ nodeName: `node-range-${caseNumber++}` }) as unknown as Mutable;
      mutate(body);
      const [reports, sensors] = [await reportCount(), await t.db.sensor.count()];
      const result = await post(
        INGEST_PATHS.reports,
        signed({ path: INGEST_PATHS.reports, body: JSON.stringify(body) }),
      );
      expect(result.status, JSON.stringify(result.body)).toBe(400);
      expect(result.body).toMatchObject({ ok: false, reason: "invalid_body" });
      expect(result.body.message).toContain(`${field}: `);
      expect([await reportCount(), await t.db.sensor.count()]).toEqual([reports, sensors]);
    },
  );

  const chunkCases: Array<[string, string, (m: Mutable) => void]> = [
    ["agent.startedAt of 2^53−1", "agent.startedAt", (m) => (m.agent.startedAt = Number.MAX_SAFE_INTEGER)],
    ["agent.startedAt beyond what a Date holds", "agent.startedAt", (m) => (m.agent.startedAt = BEYOND_DATE)],
    ["a NUL in the interface", "interface", (m) => (m.interface = `eth${NUL}`)],
    ["a NUL in nodeName", "agent.nodeName", (m) => (m.agent.nodeName = `${NUL}`)],
    ["a lone surrogate in podName", "agent.podName", (m) => (m.agent.podName = `pod${LONE_LOW}`)],
  ];

  it.each(chunkCases)(
    "refuses a chunk with %s (400, naming %s), storing nothing",
    async (_name, field, mutate) => {
      const { bytes, lastUs } = pcapFile(2, Date.now() * 1000);
      const metadata = {
        protocolVersion: PROTOCOL_VERSION,
        agent: report({ nodeName: `node-range-${caseNumber++}` }).agent,
        interface: "eth0",
        firstPacketAtUs: lastUs - 1000,
        lastPacketAtUs: lastUs,
        packetCount: 2,
        pcapBytes: bytes.byteLength,
      } satisfies ChunkMetadata as unknown as Mutable;
      mutate(metadata);
      const body = Buffer.concat([Buffer.from(`${JSON.stringify(metadata)}\n`), bytes]);
      const [chunks, sensors] = [await t.db.packetChunk.count(), await t.db.sensor.count()];
      const result = await post(
        INGEST_PATHS.chunks,
        signed({ path: INGEST_PATHS.chunks, body }),
        CONTENT_TYPES.chunk,
      );
      expect(result.status, JSON.stringify(result.body)).toBe(400);
      expect(result.body).toMatchObject({ ok: false, reason: "invalid_body" });
      expect(result.body.message).toContain(`${field}: `);
      expect([await t.db.packetChunk.count(), await t.db.sensor.count()]).toEqual([chunks, sensors]);
    },
  );

  it.each([
    ["a NUL", `${INGEST_PATHS.actions}?node=%00`],
    ["a NUL inside the name", `${INGEST_PATHS.actions}?node=node-a%00b`],
  ])("refuses an action poll whose node has %s (400, naming node)", async (_name, path) => {
    const response = await fetch(`${t.url}${path}`, {
      headers: signed({ method: "GET", path, body: "" }).headers,
    });
    const body = (await response.json()) as { ok: boolean; reason: string; message: string };
    expect(response.status, JSON.stringify(body)).toBe(400);
    expect(body).toMatchObject({ ok: false, reason: "malformed" });
    expect(body.message).toMatch(/^node: /);
  });

  describe("action results", () => {
    let actionId: string;
    beforeAll(async () => {
      const nodeName = "node-range-actions";
      expect(
        (
          await post(
            INGEST_PATHS.reports,
            signed({ path: INGEST_PATHS.reports, body: encodeStatsReport(report({ nodeName })) }),
          )
        ).status,
      ).toBe(200);
      const sensor = await t.db.sensor.findFirstOrThrow({ where: { nodeName } });
      const requested = await fetch(`${t.url}/api/v1/sensors/${sensor.id}/snapshots`, {
        method: "POST",
        headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
        body: JSON.stringify({ durationSeconds: 5, filter: "" }),
      });
      expect(requested.status).toBe(200);
      actionId = ((await requested.json()) as { id: string }).id;
      const path = actionPollPath(nodeName);
      const poll = await fetch(`${t.url}${path}`, {
        headers: signed({ method: "GET", path, body: "" }).headers,
      });
      expect(poll.status).toBe(200);
      expect((await t.db.sensorAction.findUniqueOrThrow({ where: { id: actionId } })).status).toBe(
        "delivered",
      );
    });

    const resultCases: Array<[string, string, (m: Mutable) => void]> = [
      ["a NUL in the reason", "reason", (m) => (m.reason = `no such interface${NUL}`)],
      ["a lone surrogate in the reason", "reason", (m) => (m.reason = `broken ${LONE_HIGH}`)],
      ["a NUL in an interface", "interfaces.1", (m) => (m.interfaces = ["eth0", `eth${NUL}1`])],
      ["startedAt of 2^53−1", "startedAt", (m) => (m.startedAt = Number.MAX_SAFE_INTEGER)],
      ["finishedAt beyond what a Date holds", "finishedAt", (m) => (m.finishedAt = BEYOND_DATE)],
      ["a NUL in nodeName", "agent.nodeName", (m) => (m.agent.nodeName = `node-range-actions${NUL}`)],
    ];

    it.each(resultCases)(
      "refuses a result with %s (400, naming %s), leaving the action open",
      async (_name, field, mutate) => {
        const metadata = {
          protocolVersion: PROTOCOL_VERSION,
          agent: report({ nodeName: "node-range-actions" }).agent,
          actionId,
          status: "failed",
          reason: "interface eth9 is not captured",
          startedAt: Date.now() - 1000,
          finishedAt: Date.now(),
          interfaces: ["eth0"],
          packetCount: 0,
          pcapBytes: 0,
        } satisfies ActionResultMetadata as unknown as Mutable;
        mutate(metadata);
        const body = Buffer.from(`${JSON.stringify(metadata)}\n`);
        const result = await post(
          INGEST_PATHS.actionResults,
          signed({ path: INGEST_PATHS.actionResults, body }),
          CONTENT_TYPES.actionResult,
        );
        expect(result.status, JSON.stringify(result.body)).toBe(400);
        expect(result.body).toMatchObject({ ok: false, reason: "invalid_body" });
        expect(result.body.message).toContain(`${field}: `);
        expect(await t.db.sensorAction.findUniqueOrThrow({ where: { id: actionId } })).toMatchObject({
          status: "delivered",
          finishedAt: null,
          reason: null,
        });
      },
    );
  });
});

describe("ingest: an unexpected server error", () => {
  // A second replica over the same database, whose log lines the test reads.
  let replica: RunningServer;
  const logLines: Array<{ level: number; msg: string; reqId?: string; err?: { message: string } }> = [];

  beforeAll(async () => {
    const env = loadServerEnv({
      DATABASE_URL: t.database.url,
      PORT: "0",
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: "info",
    });
    const logger = pino(
      { level: "info" },
      { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) },
    );
    replica = await startServer({ env, logger, announce: () => undefined });
  });
  afterAll(async () => {
    await replica?.stop();
  });

  /** Runs `body` while a table is renamed away, so that the database refuses what touches it. */
  async function withoutTable<T>(table: string, body: () => Promise<T>): Promise<T> {
    await t.db.$executeRawUnsafe(`ALTER TABLE "${table}" RENAME TO "${table}_away"`);
    try {
      return await body();
    } finally {
      await t.db.$executeRawUnsafe(`ALTER TABLE "${table}_away" RENAME TO "${table}"`);
    }
  }

  it("answers a chunk the database fails to store with 500 internal, not a rate limit, and logs it as an error", async () => {
    const { bytes, lastUs } = pcapFile(1, Date.now() * 1000);
    const metadata: ChunkMetadata = {
      protocolVersion: PROTOCOL_VERSION,
      agent: report({ nodeName: "node-db-trouble" }).agent,
      interface: "eth0",
      firstPacketAtUs: lastUs,
      lastPacketAtUs: lastUs,
      packetCount: 1,
      pcapBytes: bytes.byteLength,
    };
    const request = signed({ path: INGEST_PATHS.chunks, body: encodeChunkUpload(metadata, bytes) });
    const requestId = `chunk-${randomBytes(6).toString("hex")}`;
    const result = await withoutTable("PacketChunk", () =>
      post(
        INGEST_PATHS.chunks,
        { ...request, headers: { ...request.headers, "x-request-id": requestId } },
        CONTENT_TYPES.chunk,
        replica.url,
      ),
    );
    expect(result.status).toBe(500);
    expect(result.body).toMatchObject({ ok: false, reason: "internal" });
    expect(result.body.message).toContain(requestId);
    expect(result.body.message).not.toMatch(/rate|PacketChunk/i);
    const logged = logLines.find((line) => line.reqId === requestId && line.level === 50);
    expect(logged).toMatchObject({
      msg: "ingest failed",
      err: { message: expect.stringContaining("PacketChunk") },
    });
  });

  it("answers an action poll the database fails to serve with 500 internal, and logs it as an error", async () => {
    expect(
      (
        await post(
          INGEST_PATHS.reports,
          signed({
            path: INGEST_PATHS.reports,
            body: encodeStatsReport(report({ nodeName: "node-db-poll" })),
          }),
        )
      ).status,
    ).toBe(200);
    const path = actionPollPath("node-db-poll");
    const requestId = `poll-${randomBytes(6).toString("hex")}`;
    const response = await withoutTable("SensorAction", () =>
      fetch(`${replica.url}${path}`, {
        headers: { ...signed({ method: "GET", path, body: "" }).headers, "x-request-id": requestId },
      }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ ok: false, reason: "internal" });
    expect(logLines.find((line) => line.reqId === requestId && line.level === 50)).toMatchObject({
      msg: "action ingest failed",
    });
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
