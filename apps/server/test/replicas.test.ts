// Two server replicas over one PostgreSQL, as a larger installation runs
// them behind a load balancer: a report taken by one reaches live subscribers
// of the other, and a request replayed to the other replica is refused.
import { INGEST_PATHS } from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD, awaitLiveSummary, startTestServer, type TestServer } from "./harness.ts";
import { agentStatsReport, signedStatsReport } from "../../../e2e/support/agent-reports.ts";

let a: TestServer;
let b: RunningServer;
let token: string;
let cluster: { clusterId: string; keyId: string; secret: string };

beforeAll(async () => {
  a = await startTestServer();
  const env = loadServerEnv({
    DATABASE_URL: a.database.url,
    PORT: "0",
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  b = await startServer({ env, logger: createLogger(env.LOG_LEVEL), announce: () => undefined });
  token = (await a.userWithToken("operator")).token;
  const created = await a.trpc("clusters.create", { input: { id: "multi" }, auth: { bearer: token } });
  expect(created.status).toBe(200);
  cluster = created.body.result?.data as typeof cluster;
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

let sequence = 0;
function signedReport(nodeName: string, packets: number) {
  const report = agentStatsReport(
    { clusterId: "multi", nodeName, podName: `pod-${nodeName}`, agentVersion: "0.1.0", sequence: sequence++ },
    {
      interfaces: [
        {
          name: "eth0",
          packets,
          bytes: packets * 100,
          kernelDrops: 0,
          interfaceDrops: 0,
          protocols: { ipv4: packets, ipv6: 0, tcp: packets, udp: 0, icmp: 0, other: 0 },
          topTalkers: [],
        },
      ],
    },
  );
  return signedStatsReport(cluster, report);
}

const post = async (base: string, request: ReturnType<typeof signedReport>) => {
  const response = await fetch(`${base}${INGEST_PATHS.reports}`, {
    method: "POST",
    headers: request.headers,
    body: new Uint8Array(request.body),
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean; reason?: string } };
};

describe("server replicas", () => {
  it("delivers a report taken by one replica to live subscribers of the other", async () => {
    const summary = await awaitLiveSummary({
      baseUrl: b.url,
      token,
      nodeName: "node-across",
      send: async () => {
        expect((await post(a.url, signedReport("node-across", 777))).status).toBe(200);
      },
    });
    expect(summary).toMatchObject({ nodeName: "node-across", packets: 777 });
  });

  it("refuses a request replayed to the other replica, storing it once", async () => {
    const request = signedReport("node-replayed", 5);
    const results = await Promise.all([post(a.url, request), post(b.url, request)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.map((r) => r.body.reason)).toContain("replayed");
    expect(await a.db.sensorReport.count({ where: { nodeName: "node-replayed" } })).toBe(1);
    // And afterwards, in sequence, to either replica.
    expect((await post(b.url, request)).body.reason).toBe("replayed");
    expect((await post(a.url, request)).body.reason).toBe("replayed");
    expect(await a.db.sensorReport.count({ where: { nodeName: "node-replayed" } })).toBe(1);
  });

  it("accepts a key rotated on one replica at once on the other", async () => {
    // Replica B has the cluster's current keys cached from this report.
    expect((await post(b.url, signedReport("node-rotated", 1))).status).toBe(200);
    const rotated = await a.trpc("clusters.rotateKey", {
      input: { id: "multi", graceHours: 1 },
      auth: { bearer: token },
    });
    expect(rotated.status).toBe(200);
    const oldSecret = cluster.secret;
    cluster = { ...cluster, secret: (rotated.body.result?.data as { secret: string }).secret };
    // The first request with the new key is accepted: B was told, it did not wait out its cache.
    const first = await post(b.url, signedReport("node-rotated", 2));
    expect(first, JSON.stringify(first.body)).toMatchObject({ status: 200 });
    // The old key stays valid for its grace period, on both replicas.
    cluster = { ...cluster, secret: oldSecret };
    expect((await post(a.url, signedReport("node-rotated", 3))).status).toBe(200);
    expect((await post(b.url, signedReport("node-rotated", 4))).status).toBe(200);
  });

  it("shows one sensor whichever replica its reports reached", async () => {
    expect((await post(a.url, signedReport("node-both", 1))).status).toBe(200);
    expect((await post(b.url, signedReport("node-both", 2))).status).toBe(200);
    const listed = await a.trpc("sensors.list", {
      input: { clusterId: "multi" },
      auth: { bearer: token },
      method: "GET",
    });
    const items = (
      listed.body.result?.data as { items: { nodeName: string; lastSummary: { packets: number } }[] }
    ).items;
    const both = items.filter((s) => s.nodeName === "node-both");
    expect(both).toHaveLength(1);
    expect(both[0]!.lastSummary.packets).toBe(2);
    expect(await a.db.sensorReport.count({ where: { nodeName: "node-both" } })).toBe(2);
  });
});
