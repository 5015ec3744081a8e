// The demo end to end, as root: POST /api/v1/demo/start makes two simulated
// clusters whose pods run the real agent inside their node's network
// namespace (lo and eth0, a veth pair's end on the demo bridge), reporting
// over HTTPS with the demo's CA to the bridge's address; the sensors show up
// with moving counters, capturing the node's eth0, the trouble nodes do not
// report and the inventory shows each one's state (excluded, crash-looping,
// silent); POST /api/v1/demo/stop leaves no namespace, link, process or row
// behind, also what an earlier demo that was killed left.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

interface SensorItem {
  clusterId: string;
  nodeName: string;
  lastSummary: { packets: number; sequence: number; interfaces: Array<{ name: string }> } | null;
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
  // A POST carries an empty object, as the dashboard's buttons send.
  const answer = await callRest(server.url, {
    method,
    path: route,
    token,
    ...(method === "POST" ? { body: {} } : {}),
  });
  return { status: answer.status, body: answer.json };
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
    .map((line) => line.split(" ")[0]!)
    .filter((name) => name.startsWith("tfdemo-"));

/** The demo bridge and veth ends in the host's namespace. */
const demoLinks = (): string[] =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name === "tfdemo-br" || /^tfd\d+n\d+p?$/.test(name));

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
    // What a demo killed hard leaves behind: a namespace, a veth pair and the bridge.
    execFileSync("ip", ["netns", "add", "tfdemo-9-9"]);
    execFileSync("ip", ["link", "add", "tfd9n9", "type", "veth", "peer", "name", "tfd9n9p"]);
    execFileSync("ip", ["link", "add", "tfdemo-br", "type", "bridge"]);

    const started = await rest("POST", "/demo/start", admin);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ state: "running", traffic: "network-namespaces" });
    expect(demoNamespaces().sort()).toEqual(
      ["1-1", "1-2", "1-3", "2-1", "2-2", "2-3", "2-4", "2-5"].map((node) => `tfdemo-${node}`),
    );
    // A node's namespace holds what a node has: its loopback and its NIC.
    expect(
      execFileSync("ip", ["netns", "exec", "tfdemo-1-1", "ls", "/sys/class/net"], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean),
    ).toEqual(["eth0", "lo"]);
    expect(demoLinks().sort()).toEqual(
      ["tfd1n1", "tfd1n2", "tfd1n3", "tfd2n1", "tfd2n2", "tfd2n3", "tfd2n4", "tfd2n5", "tfdemo-br"].sort(),
    );

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
    // Each agent runs in its node's namespace and the DaemonSet's settings (none: every interface
    // but loopback) choose what it captures: the node's eth0, not a host interface.
    for (const item of first)
      expect(
        item.lastSummary!.interfaces.map((stats) => stats.name),
        `${item.clusterId}/${item.nodeName}`,
      ).toEqual(["eth0"]);

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
    expect(demoLinks()).toEqual([]);
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
