// One cluster's inventory at run time against a real simulated cluster (TLS, the real
// client) and a real PostgreSQL: after each kind of change — a node tainted, made NotReady,
// added or removed, a sensor pod deleted, the sensor DaemonSet's node selector changed and
// changed back — the persisted rows equal a full judgement of a fresh list of the cluster.
// The runtime judges only the nodes a change touched; this holds it to the full result.
import { createDb, createLiveBus, createPgPool, type Db, type LiveBus, type PgPool } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { trimNode, trimPod, trimSensorDaemonSet } from "@tapfleet/kube";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../../../scripts/test-wait-for.ts";
import { applyInventoryEvent, EMPTY_INVENTORY } from "../inventory.ts";
import { computeInventoryCoverage } from "../summary.ts";
import { subscribeTopic } from "../../live/topics.ts";
import { startClusterInventory, type ClusterInventoryRuntime } from "./cluster-inventory.ts";
import { inventoryInputsFromKube } from "./kube-mapper.ts";
import { readCoverageRows } from "./store.ts";
import { INVENTORY_TOPIC, type InventoryLiveMessage } from "./topic.ts";

const CLUSTER = "incremental";
let database: TestDatabase;
let db: Db;
let bus: LiveBus;
let pool: PgPool;
let sim: RunningSimCluster;
let runtime: ClusterInventoryRuntime;
const errors: unknown[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
  bus = await createLiveBus({ url: database.url });
  pool = createPgPool({ url: database.url, max: 2, onError: (error) => errors.push(error) });
  sim = await startSimCluster({ nodes: 6, kubelet: "fake", readyDelayMs: 0, bookmarkIntervalMs: 1_000 });
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet" });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  runtime = await startClusterInventory({
    db,
    pool,
    bus,
    connection: { clusterId: CLUSTER, kubeconfig: sim.kubeconfig(), context: "" },
    debounceMs: 20,
    minIntervalMs: 50,
    onError: (error) => errors.push(error),
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await bus?.close();
  await pool?.end();
  await db?.$disconnect();
  await database?.stop();
});

/** Each node's verdict as a full judgement of what the simulator holds now gives it. */
function fullJudgement(): string[] {
  const daemonSets = sim.store
    .list("daemonsets.apps")
    .items.map((raw) => trimSensorDaemonSet(raw))
    .filter((ds) => ds !== undefined);
  const uids = new Set(daemonSets.map((ds) => ds.uid));
  const inputs = inventoryInputsFromKube({
    nodes: sim.store.list("nodes").items.map(trimNode),
    daemonSets,
    pods: sim.store
      .list("pods", { namespace: "tapfleet" })
      .items.map(trimPod)
      .filter((pod) => pod.daemonSetUid !== undefined && uids.has(pod.daemonSetUid)),
  });
  const inventory = applyInventoryEvent(EMPTY_INVENTORY, {
    type: "cluster-synced",
    clusterId: CLUSTER,
    at: new Date().toISOString(),
    ...inputs,
  });
  return computeInventoryCoverage({ inventory, reports: [], now: new Date() })
    .map(
      (e) =>
        `${e.nodeName} ${e.coverage.state} shouldRun=${e.coverage.shouldRun} pod=${e.coverage.details?.podName ?? "-"}: ${e.coverage.reason}`,
    )
    .sort();
}

async function persisted(): Promise<string[]> {
  return (await readCoverageRows({ db, clusterId: CLUSTER }))
    .map(
      (row) =>
        `${row.nodeName} ${row.state} shouldRun=${row.shouldRun} pod=${row.podName ?? "-"}: ${row.reason}`,
    )
    .sort();
}

/** The persisted rows equal a full judgement of the simulator's objects (both read afresh each time). */
async function untilPersistedEqualsFull(what: string): Promise<string[]> {
  return waitFor(
    async () => {
      const rows = await persisted();
      const full = fullJudgement();
      return { rows, full, equal: JSON.stringify(rows) === JSON.stringify(full) };
    },
    { what, timeoutMs: 5_000, until: (v) => v.equal },
  ).then((v) => v.rows);
}

describe("startClusterInventory", () => {
  it("keeps the persisted verdicts equal to a full judgement through every kind of change", async () => {
    let rows = await untilPersistedEqualsFull("the first sync");
    expect(rows).toHaveLength(6);

    sim.cluster.taint("node-2", { key: "dedicated", value: "db", effect: "NoSchedule" });
    rows = await untilPersistedEqualsFull("node-2 tainted");
    expect(rows.find((r) => r.startsWith("node-2 "))).toMatch(/dedicated/);

    const pod = sim.store
      .list("pods", { namespace: "tapfleet" })
      .items.find((p) => (p.spec as { nodeName?: string }).nodeName === "node-3")!;
    sim.store.delete("pods", "tapfleet", pod.metadata.name!);
    rows = await untilPersistedEqualsFull("node-3's sensor pod deleted");
    expect(rows.find((r) => r.startsWith("node-3 "))).not.toContain(pod.metadata.name!);

    sim.cluster.setNodeReady("node-4", false);
    rows = await untilPersistedEqualsFull("node-4 NotReady");
    expect(rows.find((r) => r.startsWith("node-4 "))).toMatch(/^node-4 node-not-ready/);

    sim.cluster.addNode("node-7");
    sim.cluster.removeNode("node-5");
    rows = await untilPersistedEqualsFull("node-7 added, node-5 removed");
    expect(rows.map((r) => r.split(" ")[0])).toEqual([
      "node-1",
      "node-2",
      "node-3",
      "node-4",
      "node-6",
      "node-7",
    ]);

    // A change every node depends on: the DaemonSet now asks for a label no node has, then not.
    const daemonSet = sim.store.get("daemonsets.apps", "tapfleet", "tapfleet-sensor")!;
    const spec = daemonSet.spec as { template: { spec: Record<string, unknown> } };
    sim.store.update("daemonsets.apps", {
      ...daemonSet,
      spec: {
        ...spec,
        template: { ...spec.template, spec: { ...spec.template.spec, nodeSelector: { tier: "capture" } } },
      },
    });
    rows = await untilPersistedEqualsFull("the DaemonSet selecting tier=capture");
    expect(rows.filter((r) => !/ shouldRun=false /.test(r))).toEqual([]);
    const selecting = sim.store.get("daemonsets.apps", "tapfleet", "tapfleet-sensor")!;
    const selectingSpec = selecting.spec as { template: { spec: Record<string, unknown> } };
    const { nodeSelector: _dropped, ...podSpec } = selectingSpec.template.spec;
    sim.store.update("daemonsets.apps", {
      ...selecting,
      spec: { ...selectingSpec, template: { ...selectingSpec.template, spec: podSpec } },
    });
    rows = await untilPersistedEqualsFull("the DaemonSet selecting every node again");
    expect(rows.filter((r) => / excluded /.test(r)).map((r) => r.split(" ")[0])).toEqual(["node-2"]);
    expect(errors).toEqual([]);
  });

  it("tells live subscribers of a change too large for one bus message (a crash's 4 KiB termination message)", async () => {
    const heard: InventoryLiveMessage[] = [];
    const listening = new AbortController();
    const reading = (async () => {
      for await (const message of subscribeTopic(bus, INVENTORY_TOPIC, listening.signal)) heard.push(message);
    })();
    try {
      const pod = sim.store
        .list("pods", { namespace: "tapfleet" })
        .items.find((p) => (p.spec as { nodeName?: string }).nodeName === "node-6")!;
      const container = (pod.spec as { containers: { name: string; image: string }[] }).containers[0]!;
      const message = `capture failed: ${"no such device eth9; ".repeat(200)}`.slice(0, 4096);
      sim.store.update(
        "pods",
        {
          ...pod,
          status: {
            ...pod.status,
            phase: "Running",
            conditions: [
              { type: "Ready", status: "False" },
              { type: "PodScheduled", status: "True" },
            ],
            containerStatuses: [
              {
                name: container.name,
                image: container.image,
                imageID: "",
                ready: false,
                restartCount: 4,
                state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting" } },
                lastState: {
                  terminated: { exitCode: 1, reason: "Error", message, finishedAt: new Date().toISOString() },
                },
              },
            ],
          },
        },
        { subresource: "status" },
      );
      const rows = await untilPersistedEqualsFull("node-6 crash-looping");
      expect(rows.find((r) => r.startsWith("node-6 "))).toMatch(
        /^node-6 crash-looping .*no such device eth9/,
      );
      await waitFor(() => heard, {
        what: "a live message about node-6 (or a resync of its cluster)",
        timeoutMs: 5_000,
        until: (messages) =>
          messages.some(
            (m) =>
              (m.type === "node" && m.node.nodeName === "node-6" && m.node.state === "crash-looping") ||
              (m.type === "resync" && m.clusterId === CLUSTER),
          ),
      });
    } finally {
      listening.abort();
      await reading;
    }
    expect(errors).toEqual([]);
  });
});
