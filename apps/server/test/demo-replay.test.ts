// The demo without network namespaces (how it runs without root): the agents
// run on the host and replay the bundled capture on their "eth0", report over
// HTTPS to the demo's listener on 127.0.0.1, and stopping leaves no process,
// file or row behind. The demo service is made here with the pcap replay
// forced, on the test server's database and master key, its listener handing
// requests to the test server as the server's own demo hands them to its app.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSecretBox } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createDemoService, type DemoService } from "../src/demo/demo.ts";
import { kubectl } from "./kubectl.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { forwardTo } from "./forward.ts";

const SECRET_KEY = randomBytes(32).toString("base64");

let server: TestServer;
let dataDir: string;
let admin: string;
let demo: DemoService;

const routeToServer = forwardTo(() => server.url);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tapfleet-demo-replay-"));
  server = await startTestServer({ TAPFLEET_DATA_DIR: dataDir, TAPFLEET_SECRET_KEY: SECRET_KEY });
  admin = (await server.userWithToken("admin")).token;
  demo = createDemoService({
    db: server.db,
    bus: server.bus,
    secrets: createSecretBox(Buffer.from(SECRET_KEY, "base64")),
    // The new clusters' key ids were never asked for, so no cached refusal stands in the way.
    invalidateKeys: () => Promise.resolve(),
    route: routeToServer,
    dataDir,
    searchPath: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    log: { info: () => undefined, warn: () => undefined },
    traffic: "pcap-replay",
  });
}, 60_000);

afterAll(async () => {
  await demo?.stop();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface SensorItem {
  clusterId: string;
  nodeName: string;
  lastSummary: { packets: number; interfaces: Array<{ name: string }> } | null;
}

const sensors = async (): Promise<SensorItem[]> => {
  const response = await fetch(`${server.url}/api/v1/sensors`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: SensorItem[] }).items.filter((item) =>
    item.clusterId.startsWith("demo-"),
  );
};

const demoNamespaces = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0]!)
    .filter((name) => name.startsWith("tfdemo-"));

describe("demo with pcap replay", () => {
  it("runs the agents on the host replaying the capture, and stopping removes everything", async () => {
    const started = await demo.start();
    expect(started).toMatchObject({ state: "running", traffic: "pcap-replay" });
    expect(demoNamespaces()).toEqual([]);

    const healthy = await waitFor(sensors, {
      what: "the five healthy demo sensors counting replayed packets",
      timeoutMs: 45_000,
      intervalMs: 500,
      until: (items) => items.length === 5 && items.every((item) => (item.lastSummary?.packets ?? 0) > 0),
    });
    // The device the replay stands for: the plan's per-node setting, as before namespaces existed.
    for (const item of healthy)
      expect(
        item.lastSummary!.interfaces.map((stats) => stats.name),
        `${item.clusterId}/${item.nodeName}`,
      ).toEqual(["eth0"]);

    // Each cluster's kubeconfig, for kubectl: owner-only, named by the status, usable as it is.
    const status = demo.status();
    expect(status.clusters.map((cluster) => cluster.id)).toEqual(["demo-east", "demo-west"]);
    for (const cluster of status.clusters) {
      expect(cluster.kubeconfigFile).toBe(path.join(dataDir, "demo", `${cluster.id}.kubeconfig`));
      expect(cluster.kubectlCommand).toBe(
        `kubectl --kubeconfig ${cluster.kubeconfigFile} -n tapfleet-sensor get pods`,
      );
      expect(statSync(cluster.kubeconfigFile).mode & 0o777, cluster.id).toBe(0o600);
      const nodes = await kubectl(cluster.kubeconfigFile, "get", "nodes", "-o", "name");
      expect(nodes.trim().split("\n").sort(), cluster.id).toEqual(
        Array.from({ length: cluster.nodes }, (_, index) => `node/node-${index + 1}`),
      );
    }
    const kubeconfigFiles = status.clusters.map((cluster) => cluster.kubeconfigFile);
    // The files hold the simulators' credentials: below admin, the demo's status (and so their paths) is refused.
    const operator = (await server.userWithToken("operator")).token;
    const refused = await fetch(`${server.url}/api/v1/demo`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(refused.status).toBe(403);

    const stopped = await demo.stop();
    expect(stopped.state).toBe("stopped");
    expect(existsSync(path.join(dataDir, "demo"))).toBe(false);
    for (const file of kubeconfigFiles) expect(existsSync(file), file).toBe(false);
    expect(await sensors()).toEqual([]);
  }, 120_000);
});
