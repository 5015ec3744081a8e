// Capture statistics over real HTTP: signed reports in, rates out, at the
// resolution of the range; rollups that agree with the reports they sum; and
// what a 7-day query costs with 7 days of reports stored.
import { randomUUID } from "node:crypto";
import { advanceStatsRollups } from "@tapfleet/core";
import { type InterfaceStats } from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentStatsReport, postStatsReport } from "../../../e2e/support/agent-reports.ts";
import { startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
let viewer: string;
let cluster: { clusterId: string; keyId: string; secret: string };

beforeAll(async () => {
  t = await startTestServer();
  viewer = (await t.userWithToken("viewer")).token;
  const operator = (await t.userWithToken("operator")).token;
  const created = await t.trpc("clusters.create", {
    input: { id: "stats-eu-1" },
    auth: { bearer: operator },
  });
  expect(created.status).toBe(200);
  cluster = created.body.result?.data as typeof cluster;
});
afterAll(async () => {
  await t?.stop();
});

function eth(name: string, packets: number, drops = 0): InterfaceStats {
  return {
    name,
    packets,
    bytes: packets * 500,
    kernelDrops: drops,
    interfaceDrops: 0,
    protocols: { ipv4: packets, ipv6: 0, tcp: packets - packets / 5, udp: packets / 5, icmp: 0, other: 0 },
    topTalkers: [],
  };
}

async function sendReport(options: {
  nodeName: string;
  startedAt: number;
  sequence: number;
  sentAt: number;
  interfaces: InterfaceStats[];
}): Promise<void> {
  const report = agentStatsReport(
    {
      clusterId: cluster.clusterId,
      nodeName: options.nodeName,
      startedAt: options.startedAt,
      sequence: options.sequence,
    },
    { sentAt: options.sentAt, reportIntervalSeconds: 10, interfaces: options.interfaces },
  );
  const response = await postStatsReport(t.url, cluster, report);
  expect(response.status, await response.text()).toBe(200);
}

interface Series {
  resolution: string;
  source: string;
  stepSeconds: number | null;
  timestamps: number[];
  interfaces: {
    name: string;
    packetsPerSecond: (number | null)[];
    bitsPerSecond: (number | null)[];
    dropsPerSecond: (number | null)[];
  }[];
  protocols: Record<string, number>;
}

async function getJson(path: string, token = viewer): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${t.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

async function series(sensorId: string, query: string): Promise<Series> {
  const { status, body } = await getJson(`/sensors/${sensorId}/stats?${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as Series;
}

async function sensorIdOf(nodeName: string): Promise<string> {
  const sensor = await t.db.sensor.findUniqueOrThrow({
    where: { clusterId_nodeName: { clusterId: cluster.clusterId, nodeName } },
  });
  return sensor.id;
}

describe("stats: series over real reports", () => {
  const node = "node-rates";
  const run1 = Date.now() - 10 * 60_000;
  const run2 = Date.now() - 2 * 60_000;
  let sensorId: string;

  beforeAll(async () => {
    // One run: 1000 packets per 10 s on eth0 (100 pkt/s, 400 kbit/s), eth1 joins later, a lost report.
    await sendReport({
      nodeName: node,
      startedAt: run1,
      sequence: 0,
      sentAt: run1 + 10_000,
      interfaces: [eth("eth0", 1000)],
    });
    await sendReport({
      nodeName: node,
      startedAt: run1,
      sequence: 1,
      sentAt: run1 + 20_000,
      interfaces: [eth("eth0", 2000, 10), eth("eth1", 50)],
    });
    // sequence 2 was lost: the next delta covers 20 s.
    await sendReport({
      nodeName: node,
      startedAt: run1,
      sequence: 3,
      sentAt: run1 + 40_000,
      interfaces: [eth("eth0", 4000, 30), eth("eth1", 250)],
    });
    // The agent restarts: counters from zero. No negative rate, no spike.
    await sendReport({
      nodeName: node,
      startedAt: run2,
      sequence: 0,
      sentAt: run2 + 5_000,
      interfaces: [eth("eth0", 500)],
    });
    await sendReport({
      nodeName: node,
      startedAt: run2,
      sequence: 1,
      sentAt: run2 + 15_000,
      interfaces: [eth("eth0", 1500)],
    });
    sensorId = await sensorIdOf(node);
  });

  it("15m: a point per report, rates from the differences of one run, the restart counted from its start", async () => {
    const result = await series(sensorId, "range=15m");
    expect(result).toMatchObject({ resolution: "report", source: "reports", stepSeconds: null });
    const eth0 = result.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0.packetsPerSecond.filter((v) => v !== null)).toEqual([100, 100, 100, 100, 100]);
    expect(eth0.bitsPerSecond.filter((v) => v !== null)).toEqual([
      400_000, 400_000, 400_000, 400_000, 400_000,
    ]);
    expect(eth0.dropsPerSecond.filter((v) => v !== null)).toEqual([0, 1, 1, 0, 0]);
    const eth1 = result.interfaces.find((i) => i.name === "eth1")!;
    expect(eth1.packetsPerSecond.filter((v) => v !== null)).toEqual([10]);
    // 4000 + 1500 packets on eth0, 200 on eth1 (its first report has nothing to differ from).
    expect(result.protocols).toMatchObject({ ipv4: 5700, tcp: 4560, udp: 1140 });
  });

  it("one interface only, when asked", async () => {
    const result = await series(sensorId, "range=15m&interface=eth1");
    expect(result.interfaces.map((i) => i.name)).toEqual(["eth1"]);
  });

  it("1h: minute buckets; the same totals before and after the rollups caught up with the reports", async () => {
    const before = await series(sensorId, "range=1h");
    expect(before).toMatchObject({ resolution: "1m", source: "rollups", stepSeconds: 60 });
    await advanceStatsRollups({ db: t.db, now: new Date(Date.now() + 60_000) });
    const rolled = await t.db.sensorStatsRollup.count({ where: { sensorId } });
    expect(rolled).toBeGreaterThan(0);
    const after = await series(sensorId, "range=1h");
    expect(after.timestamps).toEqual(before.timestamps);
    expect(after.interfaces).toEqual(before.interfaces);
    expect(after.protocols).toEqual(before.protocols);
    expect(after.protocols.ipv4).toBe(5700);
    // All reports arrived within moments: one minute bucket, 5700 + 200 packets over 75 s of eth0 and 20 s of eth1.
    const eth0 = after.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0.packetsPerSecond).toEqual([100]);
  });

  it("24h and 7d read 5-minute and hour buckets", async () => {
    expect(await series(sensorId, "range=24h")).toMatchObject({ resolution: "5m", stepSeconds: 300 });
    expect(await series(sensorId, "range=7d")).toMatchObject({ resolution: "1h", stepSeconds: 3600 });
  });

  it("refuses a bad range or id naming the field, answers 404 for an unknown sensor, and 401 without credentials", async () => {
    const badRange = await getJson(`/sensors/${sensorId}/stats?range=2w`);
    expect(badRange.status).toBe(400);
    expect(JSON.stringify(badRange.body)).toContain("range");
    const badId = await getJson(`/sensors/not-a-uuid/stats?range=1h`);
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body)).toContain("sensorId");
    const unknown = await getJson(`/sensors/${randomUUID()}/stats?range=1h`);
    expect(unknown.status).toBe(404);
    const anonymous = await fetch(`${t.url}/api/v1/sensors/${sensorId}/stats?range=1h`);
    expect(anonymous.status).toBe(401);
  });

  it("GET /sensors/{id}: the sensor with its agent version, config hash and interfaces", async () => {
    const { status, body } = await getJson(`/sensors/${sensorId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: sensorId,
      nodeName: node,
      agentVersion: "0.3.1",
      configHash: "0123456789abcdef",
      lastSummary: { interfaces: [{ name: "eth0", packets: 1500 }] },
    });
  });

  it("the routes are in the OpenAPI document", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/sensors/{sensorId}", "/sensors/{sensorId}/stats"]),
    );
  });

  it("live: the next report arrives as a point measured against the one before", async () => {
    const controller = new AbortController();
    const input = encodeURIComponent(JSON.stringify({ sensorId }));
    const response = await fetch(`${t.url}/trpc/stats.live?input=${input}`, {
      headers: { authorization: `Bearer ${viewer}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    // The stream has registered once its first bytes (the connection message) arrive.
    buffer += decoder.decode((await reader.read()).value, { stream: true });
    await sendReport({
      nodeName: node,
      startedAt: run2,
      sequence: 2,
      sentAt: run2 + 25_000,
      interfaces: [eth("eth0", 4500)],
    });
    let point: { interfaces: { name: string; packetsPerSecond: number }[]; seconds: number } | undefined;
    while (!point) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const match = /data: (\{.*"interfaces".*\})/.exec(buffer);
      if (match) point = JSON.parse(match[1]!) as typeof point;
    }
    controller.abort();
    expect(point).toMatchObject({ seconds: 10, interfaces: [{ name: "eth0", packetsPerSecond: 300 }] });
  });

  it("clusterLive: every sensor of the cluster's next report arrives as a point, named by cluster and node", async () => {
    const controller = new AbortController();
    const input = encodeURIComponent(JSON.stringify({ clusterId: cluster.clusterId }));
    const response = await fetch(`${t.url}/trpc/stats.clusterLive?input=${input}`, {
      headers: { authorization: `Bearer ${viewer}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = decoder.decode((await reader.read()).value, { stream: true });
    await sendReport({
      nodeName: node,
      startedAt: run2,
      sequence: 3,
      sentAt: run2 + 45_000,
      interfaces: [eth("eth0", 8500, 40)],
    });
    let point: Record<string, unknown> | undefined;
    while (!point) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const match = /data: (\{.*"interfaces".*\})/.exec(buffer);
      if (match) point = JSON.parse(match[1]!) as Record<string, unknown>;
    }
    controller.abort();
    expect(point).toMatchObject({
      sensorId,
      clusterId: cluster.clusterId,
      nodeName: node,
      seconds: 20,
      interfaces: [{ name: "eth0", packetsPerSecond: 200, dropsPerSecond: 2 }],
    });
  });
});

describe("stats: each sensor's latest known rates", () => {
  it("GET /stats/latest: the last report against the one before, per sensor, of one cluster or the fleet", async () => {
    const node = "node-latest";
    const startedAt = Date.now() - 60_000;
    await sendReport({
      nodeName: node,
      startedAt,
      sequence: 0,
      sentAt: startedAt + 10_000,
      interfaces: [eth("eth0", 1000)],
    });
    await sendReport({
      nodeName: node,
      startedAt,
      sequence: 1,
      sentAt: startedAt + 20_000,
      interfaces: [eth("eth0", 3000, 20)],
    });
    const sensorId = await sensorIdOf(node);
    for (const query of [`?clusterId=${cluster.clusterId}`, ""]) {
      const { status, body } = await getJson(`/stats/latest${query}`);
      expect(status, JSON.stringify(body)).toBe(200);
      const items = (body as { items: { sensorId: string }[] }).items;
      expect(items.filter((item) => item.sensorId === sensorId)).toEqual([
        {
          sensorId,
          clusterId: cluster.clusterId,
          nodeName: node,
          timestamp: expect.any(Number),
          seconds: 10,
          reportIntervalSeconds: 10,
          interfaces: [{ name: "eth0", packetsPerSecond: 200, bitsPerSecond: 800_000, dropsPerSecond: 2 }],
        },
      ]);
    }
    // Another cluster's sensors are not in one cluster's answer; a bad id names the field.
    const other = await getJson("/stats/latest?clusterId=no-such-cluster");
    expect(other).toMatchObject({ status: 200, body: { items: [] } });
    const bad = await getJson("/stats/latest?clusterId=Not%20An%20Id");
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/clusterId/);
    const anonymous = await fetch(`${t.url}/api/v1/stats/latest`);
    expect(anonymous.status).toBe(401);
  });
});

describe("stats: 7 days of reports", () => {
  const SENSORS = 3;
  const DAYS = 7;
  const INTERVAL_S = 10;

  it("a 7-day query reads hourly rollups, fast, with the rates the reports say", async () => {
    const now = Date.now();
    const start = now - DAYS * 86_400_000;
    const ids: string[] = [];
    for (let s = 0; s < SENSORS; s++) {
      const sensor = await t.db.sensor.create({
        data: {
          clusterId: cluster.clusterId,
          nodeName: `bench-${s}`,
          podName: `tapfleet-agent-bench-${s}`,
          agentVersion: "0.3.1",
          configHash: "0123456789abcdef",
          agentStartedAt: new Date(start),
          lastSequence: 0,
          lastSeenAt: new Date(now),
        },
      });
      ids.push(sensor.id);
    }
    // One report per 10 s per sensor for 7 days, 100 pkt/s on eth0 and eth1.
    const inserting = Date.now();
    await t.db.$executeRawUnsafe(
      `INSERT INTO "SensorReport" ("receivedAt", "sensorId", "clusterId", "nodeName", "agentStartedAt", "sequence", "sentAt", "report")
       SELECT to_timestamp(($2::bigint + n * $3::bigint * 1000) / 1000.0), s.id, $4, s.node, to_timestamp($2::bigint / 1000.0), n,
              to_timestamp(($2::bigint + n * $3::bigint * 1000) / 1000.0),
              json_build_object('interfaces', json_build_array(
                json_build_object('name', 'eth0', 'packets', n * 1000, 'bytes', n * 500000, 'kernelDrops', 0, 'interfaceDrops', 0,
                  'protocols', json_build_object('ipv4', n * 1000, 'ipv6', 0, 'tcp', n * 1000, 'udp', 0, 'icmp', 0, 'other', 0)),
                json_build_object('name', 'eth1', 'packets', n * 1000, 'bytes', n * 500000, 'kernelDrops', 0, 'interfaceDrops', 0,
                  'protocols', json_build_object('ipv4', n * 1000, 'ipv6', 0, 'tcp', 0, 'udp', n * 1000, 'icmp', 0, 'other', 0))))
       FROM unnest($1::uuid[], $5::text[]) AS s(id, node), generate_series(1::bigint, $6::bigint) AS n`,
      ids,
      start,
      INTERVAL_S,
      cluster.clusterId,
      ids.map((_, s) => `bench-${s}`),
      (DAYS * 86_400) / INTERVAL_S - 1,
    );
    const insertMs = Date.now() - inserting;

    // These reports were stored behind the rollups' cursor: roll everything up again from the start.
    await t.db.$executeRawUnsafe(`TRUNCATE "StatsRollupCursor", "SensorStatsRollup"`);
    const rolling = Date.now();
    const advanced = await advanceStatsRollups({ db: t.db, now: new Date(now + 60_000) });
    const rollupMs = Date.now() - rolling;
    expect(advanced.reports).toBeGreaterThanOrEqual(SENSORS * ((DAYS * 86_400) / INTERVAL_S - 1));

    const timings: number[] = [];
    let result: Series | undefined;
    for (let i = 0; i < 5; i++) {
      const asking = performance.now();
      result = await series(ids[0]!, "range=7d");
      timings.push(performance.now() - asking);
    }
    expect(result).toMatchObject({ resolution: "1h", source: "rollups", stepSeconds: 3600 });
    expect(result!.timestamps.length).toBeLessThanOrEqual(DAYS * 24 + 2);
    expect(result!.timestamps.length).toBeGreaterThanOrEqual(DAYS * 24 - 1);
    for (const name of ["eth0", "eth1"]) {
      const column = result!.interfaces.find((i) => i.name === name)!;
      for (const value of column.packetsPerSecond.filter((v) => v !== null))
        expect(value).toBeCloseTo(100, 6);
    }

    // What the same range costs read from the reports themselves: one sensor's 7 days of counters, fetched.
    const raw = performance.now();
    const rows = await t.db.$queryRawUnsafe<{ interfaces: unknown }[]>(
      `SELECT "report"->'interfaces' AS interfaces FROM "SensorReport" WHERE "sensorId" = $1::uuid AND "receivedAt" >= $2`,
      ids[0],
      new Date(start),
    );
    const rawMs = performance.now() - raw;
    const median = [...timings].sort((a, b) => a - b)[2]!;
    console.log(
      `stats bench: ${SENSORS} sensors × ${DAYS} d at 1 report/${INTERVAL_S} s = ${advanced.reports} reports; ` +
        `insert ${insertMs} ms; rollup catch-up ${rollupMs} ms (${Math.round(advanced.reports / (rollupMs / 1000))} reports/s); ` +
        `7d series over HTTP median ${median.toFixed(1)} ms (of ${timings.map((v) => v.toFixed(1)).join(", ")}); ` +
        `fetching one sensor's ${rows.length} reports' counters instead ${rawMs.toFixed(1)} ms`,
    );
    expect(median).toBeLessThan(1000);
  }, 300_000);
});
