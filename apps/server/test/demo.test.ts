// The demo end to end, as root: POST /api/v1/demo/start makes two simulated
// clusters whose pods run the real agent on veth pairs in network
// namespaces, reporting over HTTPS with the demo's CA; the sensors show up
// with moving counters, the trouble nodes do not report and the inventory
// shows each one's state (excluded, crash-looping, silent); POST
// /api/v1/demo/stop leaves no namespace, process or row behind.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";

interface SensorItem {
  clusterId: string;
  nodeName: string;
  lastSummary: { packets: number; sequence: number } | null;
}

let server: TestServer;
let dataDir: string;
let admin: string;
let operator: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tapfleet-demo-"));
  server = await startTestServer({ TAPFLEET_DATA_DIR: dataDir, TAPFLEET_DEMO: "available" });
  admin = (await server.userWithToken("admin")).token;
  operator = (await server.userWithToken("operator")).token;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const rest = async (method: string, route: string, token: string) => {
  const response = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(method === "POST" ? { "content-type": "application/json" } : {}),
    },
    ...(method === "POST" ? { body: "{}" } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const sensors = async (): Promise<SensorItem[]> =>
  ((await rest("GET", "/sensors", admin)).body.items as SensorItem[]).filter((item) =>
    item.clusterId.startsWith("demo-"),
  );

/** Each node's coverage state in a cluster's inventory, as `node-N: state`. */
const nodeStates = async (clusterId: string): Promise<Record<string, string>> => {
  const { status, body } = await rest("GET", `/clusters/${clusterId}/nodes?limit=100`, admin);
  expect(status).toBe(200);
  const items = body.items as Array<{ nodeName: string; state: string }>;
  return Object.fromEntries(items.map((item) => [item.nodeName, item.state]));
};

const demoNamespaces = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.startsWith("tfdemo-"));

const demoAgents = (): string[] => {
  try {
    return execFileSync("pgrep", ["-f", path.join(dataDir, "demo")], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

describe("demo: one command, two clusters, real agents", () => {
  it("is an admin's to start: an operator is refused and nothing starts", async () => {
    const refused = await rest("POST", "/demo/start", operator);
    expect(refused.status).toBe(403);
    expect((await rest("GET", "/demo", admin)).body.state).toBe("stopped");
    expect(demoNamespaces()).toEqual([]);
  });

  it("starts, its sensors report over HTTPS with moving counters, and stopping removes everything", async () => {
    const started = await rest("POST", "/demo/start", admin);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ state: "running", traffic: "network-namespaces" });
    expect(demoNamespaces()).toHaveLength(8);

    // Every node that runs a healthy agent reports; the tainted, crash-looping and silent ones do not.
    const expected = [
      "demo-east/node-1",
      "demo-east/node-3",
      "demo-west/node-1",
      "demo-west/node-2",
      "demo-west/node-3",
    ];
    const first = await waitFor(sensors, {
      what: "the five healthy demo sensors counting packets",
      timeoutMs: 30_000,
      intervalMs: 500,
      until: (items) =>
        items.length === expected.length && items.every((item) => (item.lastSummary?.packets ?? 0) > 0),
    });
    expect(first.map((item) => `${item.clusterId}/${item.nodeName}`).sort()).toEqual(expected);

    // Live: the counters keep moving.
    const before = new Map(first.map((item) => [item.nodeName + item.clusterId, item.lastSummary!.packets]));
    await waitFor(sensors, {
      what: "every demo sensor's packet counter to move",
      timeoutMs: 20_000,
      intervalMs: 500,
      until: (items) =>
        items.every((item) => (item.lastSummary?.packets ?? 0) > before.get(item.nodeName + item.clusterId)!),
    });
    const clusters = (await rest("GET", "/clusters", admin)).body.items as Array<{
      id: string;
      connection: unknown;
    }>;
    expect(
      clusters.filter((cluster) => cluster.id.startsWith("demo-") && cluster.connection !== null),
    ).toHaveLength(2);

    // Every trouble shows as its own state. The silent node's pod is Ready (its
    // reports are accepted by a decoy collector), so it is silent, not starting.
    const west = await waitFor(() => nodeStates("demo-west"), {
      what: "demo-west's node-4 crash-looping and node-5 silent in the inventory",
      timeoutMs: 60_000,
      intervalMs: 1000,
      until: (states) => states["node-4"] === "crash-looping" && states["node-5"] === "silent",
    });
    expect(west).toEqual({
      "node-1": "covered",
      "node-2": "covered",
      "node-3": "covered",
      "node-4": "crash-looping",
      "node-5": "silent",
    });
    const east = await waitFor(() => nodeStates("demo-east"), {
      what: "demo-east's node-2 excluded in the inventory",
      timeoutMs: 10_000,
      intervalMs: 500,
      until: (states) => states["node-2"] === "excluded",
    });
    expect(east).toEqual({ "node-1": "covered", "node-2": "excluded", "node-3": "covered" });

    const stopped = await rest("POST", "/demo/stop", admin);
    expect(stopped.status).toBe(200);
    expect(stopped.body.state).toBe("stopped");
    expect(demoNamespaces()).toEqual([]);
    expect(demoAgents()).toEqual([]);
    expect(await sensors()).toEqual([]);
    expect(
      ((await rest("GET", "/clusters", admin)).body.items as Array<{ id: string }>).filter((c) =>
        c.id.startsWith("demo-"),
      ),
    ).toEqual([]);
    expect(await server.db.sensorReport.count({ where: { clusterId: { startsWith: "demo-" } } })).toBe(0);
  }, 150_000);
});
