// A cluster connected over REST is watched by the server's own inventory
// controller: no test seam, the stored (encrypted) connection is what the
// leader reads.
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { removeCluster } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { readSse } from "./sse.ts";

let t: TestServer;
let sim: RunningSimCluster;
let operator: string;

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 3, kubelet: "fake" })]);
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet" });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  operator = (await t.userWithToken("operator")).token;
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

const rest = (method: string, path: string, body?: unknown) =>
  callRest(t.url, { method, path, body, token: operator });

interface NodesPage {
  items: { nodeName: string; state: string; stale: boolean }[];
}

describe("a connection stored over REST", () => {
  it("is watched by the leader: the cluster's nodes appear, and a node added later follows", async () => {
    expect((await rest("POST", "/clusters", { id: "stored" })).status).toBe(200);
    const saved = await rest("PUT", "/clusters/stored/connection", {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);

    const page = await waitFor(() => rest("GET", "/clusters/stored/nodes"), {
      what: "the stored cluster's three nodes in the inventory",
      timeoutMs: 15_000,
      until: (answer) =>
        answer.status === 200 &&
        (answer.json as unknown as NodesPage).items.filter((item) => !item.stale).length === 3,
    });
    const names = (page.json as unknown as NodesPage).items.map((item) => item.nodeName).sort();
    expect(names).toEqual(
      sim.store
        .list("nodes")
        .items.map((node) => node.metadata.name)
        .sort(),
    );

    // A node added in the cluster reaches the inventory through the running watch.
    sim.cluster.addNode("late-node");
    await waitFor(() => rest("GET", "/clusters/stored/nodes"), {
      what: "the added node in the inventory",
      timeoutMs: 10_000,
      until: (answer) =>
        (answer.json as unknown as NodesPage).items.some((item) => item.nodeName === "late-node"),
    });
    // The cluster's connection status counts it too (the count saved with the connection is
    // only as new as its last change of state).
    const cluster = await rest("GET", "/clusters/stored");
    expect(cluster.status).toBe(200);
    expect((cluster.json.connection as { nodeCount: number | null }).nodeCount).toBe(4);
  });
});

describe("a connection's changes", () => {
  it("reach the leader at once, by event: watched, forgotten and watched again each well within a second", async () => {
    expect((await rest("POST", "/clusters", { id: "prompt" })).status).toBe(200);
    const watched = (answer: { status: number; json: Record<string, unknown> }) =>
      answer.status === 200 && (answer.json as unknown as NodesPage).items.some((item) => !item.stale);
    const forgotten = (answer: { status: number; json: Record<string, unknown> }) =>
      answer.status === 200 && (answer.json as unknown as NodesPage).items.length === 0;
    /** How long after `change` answered the cluster's nodes page satisfied `until`. */
    const timeUntil = async (
      change: () => Promise<{ status: number }>,
      until: (answer: { status: number; json: Record<string, unknown> }) => boolean,
      what: string,
    ) => {
      expect((await change()).status).toBe(200);
      const changedAt = performance.now();
      await waitFor(() => rest("GET", "/clusters/prompt/nodes"), { what, timeoutMs: 10_000, until });
      return Math.round(performance.now() - changedAt);
    };
    const connect = () =>
      rest("PUT", "/clusters/prompt/connection", { kubeconfig: sim.kubeconfig(), context: sim.name });
    const elapsed = {
      connected: await timeUntil(connect, watched, "the connected cluster's nodes"),
      removed: await timeUntil(
        () => rest("DELETE", "/clusters/prompt/connection"),
        forgotten,
        "the removed connection's nodes forgotten",
      ),
      reconnected: await timeUntil(connect, watched, "the reconnected cluster's nodes"),
    };
    // The periodic reconciliation is a minute apart: only the announced change explains these.
    expect(Math.max(...Object.values(elapsed)), JSON.stringify(elapsed)).toBeLessThan(1_000);
  });
});

describe("a removed cluster", () => {
  it("leaves no inventory behind, and the leader stops watching it and tells open pages", async () => {
    expect((await rest("POST", "/clusters", { id: "removed" })).status).toBe(200);
    const saved = await rest("PUT", "/clusters/removed/connection", {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    await waitFor(() => rest("GET", "/clusters/removed/nodes"), {
      what: "the cluster's nodes in the inventory",
      timeoutMs: 15_000,
      until: (answer) =>
        answer.status === 200 && (answer.json as unknown as NodesPage).items.some((item) => !item.stale),
    });
    const controller = new AbortController();
    const input = encodeURIComponent(JSON.stringify({ clusterId: "removed" }));
    const live = await fetch(`${t.url}/trpc/inventory.live?input=${input}`, {
      headers: { authorization: `Bearer ${operator}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(live.status).toBe(200);

    expect(await removeCluster({ db: t.db, bus: t.bus, clusterId: "removed" })).toBe(true);
    // Gone with the cluster, in the same transaction.
    expect(await t.db.inventoryCoverage.count({ where: { clusterId: "removed" } })).toBe(0);
    expect(await t.db.inventoryCluster.count({ where: { clusterId: "removed" } })).toBe(0);

    // The leader's reconciliation stops the cluster's runtime and announces the removal.
    await readSse(live).readUntil<{ type: string; clusterId?: string }>(
      (messages) => messages.some((m) => m.type === "cluster-removed" && m.clusterId === "removed"),
      20_000,
    );
    controller.abort();
    // The stopped runtime wrote nothing back, and the fleet coverage no longer lists the cluster.
    expect(await t.db.inventoryCoverage.count({ where: { clusterId: "removed" } })).toBe(0);
    expect(await t.db.inventoryCluster.count({ where: { clusterId: "removed" } })).toBe(0);
    const coverage = await rest("GET", "/coverage");
    expect(coverage.status).toBe(200);
    expect(JSON.stringify(coverage.json)).not.toContain('"removed"');
  });
});
