// Antigena end to end with the real parts: a CI pipeline asks the real server
// (HTTPS, PostgreSQL) for a pcap snapshot over REST, the real agent in a
// network namespace picks it up at its signed poll, captures and uploads, and
// the pcap the pipeline downloads holds exactly the matching packets sent
// during the snapshot.

import { request as httpsRequest } from "node:https";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createApiToken, createUser } from "@tapfleet/core";
import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import type { StatsReport } from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  type AgentProcess,
} from "../../../packages/agent/test/support/agent-process.ts";
import {
  COLLECTOR_SERVER_NAME,
  createTestCertificate,
  type TestCertificate,
} from "../../../packages/agent/test/support/collector.ts";
import { createLab, type Lab } from "../../../packages/agent/test/support/lab.ts";
import { requireTools, waitFor } from "../../../packages/agent/test/support/run.ts";
import { sendLabelledUdp, udpRecords } from "../../../packages/agent/test/support/traffic.ts";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";

const CLUSTER = "antigena-lab";
const NODE = "snap-node";

let lab: Lab;
let certificate: TestCertificate;
let database: TestDatabase;
let db: Db;
let server: RunningServer | undefined;
let port = 0;
let token: string;
let agent: AgentProcess | undefined;

/** The API over HTTPS, trusting the test CA, as a CI pipeline with a token would call it. */
function api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: lab.collectorAddress,
        port,
        method,
        path: pathname,
        ca: certificate.cert,
        servername: COLLECTOR_SERVER_NAME,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on("data", (part: Buffer) => parts.push(part));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts) }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const json = <T>(response: { body: Buffer }): T => JSON.parse(response.body.toString()) as T;

/** Reads `read` until `accept` likes the value or the time is up; returns the last value read. */
async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  requireTools();
  await buildAgentBundle();
  certificate = createTestCertificate();
  lab = await createLab();
  await lab.addLink("t0", { ipv6: false });
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 3 });
  const env = loadServerEnv({
    HOST: lab.collectorAddress,
    PORT: "0",
    DATABASE_URL: database.url,
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: "admin-password-for-tests",
    TAPFLEET_TLS_CERT_FILE: path.join(certificate.directory, "cert.pem"),
    TAPFLEET_TLS_KEY_FILE: path.join(certificate.directory, "key.pem"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  server = await startServer({ env, logger: createLogger(env.LOG_LEVEL), announce: () => undefined });
  port = Number(new URL(server.url).port);
  const user = await createUser({
    db,
    username: "pipeline",
    role: "operator",
    password: "pipeline-password-1",
  });
  token = (
    await createApiToken({
      db,
      creator: { type: "user", id: user.id, name: user.username, role: "operator", sessionId: "" },
      name: "ci",
      role: "operator",
    })
  ).secret;
  const created = await api("POST", "/api/v1/clusters", { id: CLUSTER });
  expect(created.status, created.body.toString()).toBe(200);
  agent = startAgent({
    netns: lab.agentNs,
    env: {
      ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: port, certificate }),
      VSENSOR_HMAC_KEY: json<{ secret: string }>(created).secret,
      TAPFLEET_CLUSTER_ID: CLUSTER,
      TAPFLEET_NODE_NAME: NODE,
      TAPFLEET_POD_NAME: `tapfleet-agent-${NODE}`,
      OSSENSOR_CONFIG_PATH: path.join(
        mkdtempSync(path.join(os.tmpdir(), "tf-antigena-cfg-")),
        "ossensor.cfg",
      ),
      NETWORK_DEVICE_INCLUDELIST: "^t0$",
      ANTIGENA_ENABLED: "true",
      ANTIGENA_TIME_PERIOD: "1",
      OSSENSOR_DEBUG: "3",
    },
  });
  // The sensor exists for the server once its first report is stored.
  await Promise.race([
    waitFor(
      () => (agent!.output.some((line) => /report #0 .* sent: HTTP 200/.test(line)) ? true : undefined),
      30_000,
      () => `a first stored report:\n${agent!.output.slice(-10).join("\n")}`,
    ),
    agent.exited.then((code) => {
      throw new Error(`agent exited with ${code}: ${agent!.output.join("\n")}`);
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  await db?.$disconnect();
  await database?.stop();
  await lab?.destroy();
});

describe("antigena agent to server", { timeout: 90_000 }, () => {
  it("runs a snapshot requested over REST and serves exactly the matching packets of its window", async () => {
    const sensors = json<{ items: Array<{ id: string; nodeName: string }> }>(
      await api("GET", "/api/v1/sensors"),
    );
    const sensorId = sensors.items.find((sensor) => sensor.nodeName === NODE)!.id;
    const t0 = lab.links.get("t0")!;
    // Before the snapshot: captured by the sensor, not part of the snapshot.
    await sendLabelledUdp(lab.senderNs, [{ address: t0.agentV4, port: 6001, count: 5, prefix: "before" }]);

    const requested = await api("POST", `/api/v1/sensors/${sensorId}/snapshots`, {
      durationSeconds: 8,
      filter: "udp dst port 6001",
      interface: "t0",
    });
    expect(requested.status, requested.body.toString()).toBe(200);
    const actionId = json<{ id: string }>(requested).id;
    await waitFor(
      () => agent!.output.find((line) => line.includes(`snapshot ${actionId} started on t0`)),
      20_000,
      () => `the snapshot to start:\n${agent!.output.slice(-10).join("\n")}`,
    );
    await sendLabelledUdp(lab.senderNs, [
      { address: t0.agentV4, port: 6001, count: 12, prefix: "match" },
      { address: t0.agentV4, port: 6002, count: 8, prefix: "other" },
    ]);
    const sentBy = Date.now();

    type Action = {
      id: string;
      status: string;
      reason: string | null;
      result: { packetCount: number; endedBy: string; pcapUrl: string | null } | null;
    };
    const action = await eventually(
      async () =>
        json<{ items: Action[] }>(await api("GET", `/api/v1/sensors/${sensorId}/actions`)).items.find(
          (item) => item.id === actionId,
        ),
      (item) => item !== undefined && item.status !== "pending" && item.status !== "delivered",
      30_000,
    );
    expect(action, agent!.output.slice(-10).join("\n")).toMatchObject({
      status: "succeeded",
      result: { packetCount: 12, endedBy: "duration" },
    });
    const row = await db.sensorAction.findUniqueOrThrow({ where: { id: actionId } });
    expect(sentBy, "all packets were sent before the snapshot ended").toBeLessThan(
      row.deliveredAt!.getTime() + 8000,
    );

    const download = await api("GET", action!.result!.pcapUrl!);
    expect(download.status).toBe(200);
    const records = udpRecords(download.body);
    expect(records.map((record) => record.payload).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `match-${i}`).sort(),
    );
    expect(records.every((record) => record.destinationPort === 6001)).toBe(true);

    // The agent's counters arrive with its reports and are stored with them.
    const antigena = await eventually(
      async () =>
        (
          (
            await db.sensorReport.findFirst({
              where: { clusterId: CLUSTER, nodeName: NODE },
              orderBy: { sequence: "desc" },
            })
          )?.report as StatsReport | undefined
        )?.antigena,
      (counters) => (counters?.actionsSucceeded ?? 0) >= 1,
      15_000,
    );
    expect(antigena).toMatchObject({
      actionsReceived: 1,
      actionsSucceeded: 1,
      actionsFailed: 0,
      pollsFailed: 0,
    });
  });
});
