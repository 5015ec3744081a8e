import { describe, expect, it } from "vitest";
import { at, makeDaemonSet, makeNode, makePod } from "./fixtures.test-helpers.ts";
import {
  EMPTY_INVENTORY,
  applyInventoryEvent,
  buildInventory,
  inventoryObjectKey,
  type InventoryEvent,
  type InventoryState,
} from "./inventory.ts";
import type { InventoryDaemonSet, InventoryNode, InventoryPod } from "./types.ts";

const clusterId = "prod";
const synced = (
  nodes: InventoryNode[],
  daemonSets: InventoryDaemonSet[],
  pods: InventoryPod[],
  when = at(0),
): InventoryEvent => ({ type: "cluster-synced", clusterId, at: when, nodes, daemonSets, pods });

describe("applyInventoryEvent", () => {
  const nodeA = makeNode({ name: "node-a" });
  const nodeB = makeNode({ name: "node-b" });
  const ds = makeDaemonSet();
  const pod = makePod({ name: "sensor-1", nodeName: "node-a" });
  const start = applyInventoryEvent(EMPTY_INVENTORY, synced([nodeA], [ds], [pod]));

  it("builds a cluster from a full list", () => {
    expect(start.clusters[clusterId]).toEqual({
      reachable: true,
      reachableChangedAt: null,
      unreachableReason: null,
      syncedAt: at(0),
      nodes: { "node-a": nodeA },
      daemonSets: { "tapfleet/sensor": ds },
      podsByNode: { "node-a": { "tapfleet/sensor-1": pod } },
    });
  });

  it.each<{
    name: string;
    event: InventoryEvent;
    check: (state: InventoryState) => unknown;
    expected: unknown;
  }>([
    {
      name: "node added",
      event: { type: "node-added", clusterId, node: nodeB },
      check: (s) => Object.keys(s.clusters[clusterId]!.nodes),
      expected: ["node-a", "node-b"],
    },
    {
      name: "node updated",
      event: { type: "node-updated", clusterId, node: { ...nodeA, labels: { role: "edge" } } },
      check: (s) => s.clusters[clusterId]!.nodes["node-a"]!.labels,
      expected: { role: "edge" },
    },
    {
      name: "node deleted",
      event: { type: "node-deleted", clusterId, name: "node-a" },
      check: (s) => s.clusters[clusterId]!.nodes,
      expected: {},
    },
    {
      name: "daemonset added",
      event: { type: "daemonset-added", clusterId, daemonSet: makeDaemonSet({ name: "sensor-canary" }) },
      check: (s) => Object.keys(s.clusters[clusterId]!.daemonSets),
      expected: ["tapfleet/sensor", "tapfleet/sensor-canary"],
    },
    {
      name: "daemonset updated",
      event: { type: "daemonset-updated", clusterId, daemonSet: { ...ds, hostNetwork: false } },
      check: (s) => s.clusters[clusterId]!.daemonSets["tapfleet/sensor"]!.hostNetwork,
      expected: false,
    },
    {
      name: "daemonset deleted",
      event: { type: "daemonset-deleted", clusterId, namespace: "tapfleet", name: "sensor" },
      check: (s) => s.clusters[clusterId]!.daemonSets,
      expected: {},
    },
    {
      name: "pod added on another node",
      event: { type: "pod-added", clusterId, pod: makePod({ name: "sensor-2", nodeName: "node-b" }) },
      check: (s) => Object.keys(s.clusters[clusterId]!.podsByNode).sort(),
      expected: ["node-a", "node-b"],
    },
    {
      name: "pod updated",
      event: { type: "pod-updated", clusterId, pod: { ...pod, phase: "Failed" } },
      check: (s) => s.clusters[clusterId]!.podsByNode["node-a"]!["tapfleet/sensor-1"]!.phase,
      expected: "Failed",
    },
    {
      name: "pod moved to another node: it leaves the old one, whose empty entry goes",
      event: { type: "pod-updated", clusterId, pod: { ...pod, nodeName: "node-b" } },
      check: (s) => s.clusters[clusterId]!.podsByNode,
      expected: { "node-b": { "tapfleet/sensor-1": { ...pod, nodeName: "node-b" } } },
    },
    {
      name: "pod without a node",
      event: { type: "pod-added", clusterId, pod: makePod({ name: "sensor-3", nodeName: null }) },
      check: (s) => Object.keys(s.clusters[clusterId]!.podsByNode[""] ?? {}),
      expected: ["tapfleet/sensor-3"],
    },
    {
      name: "pod deleted",
      event: { type: "pod-deleted", clusterId, namespace: "tapfleet", name: "sensor-1" },
      check: (s) => s.clusters[clusterId]!.podsByNode,
      expected: {},
    },
    {
      name: "an unknown pod deleted changes nothing",
      event: { type: "pod-deleted", clusterId, namespace: "tapfleet", name: "nope" },
      check: (s) => s.clusters[clusterId],
      expected: start.clusters[clusterId],
    },
    {
      name: "cluster unreachable: objects kept, the change and its reason recorded",
      event: { type: "cluster-unreachable", clusterId, at: at(30), reason: "connect ECONNREFUSED" },
      check: (s) => {
        const { reachable, reachableChangedAt, unreachableReason, nodes } = s.clusters[clusterId]!;
        return { reachable, reachableChangedAt, unreachableReason, nodes: Object.keys(nodes) };
      },
      expected: {
        reachable: false,
        reachableChangedAt: at(30),
        unreachableReason: "connect ECONNREFUSED",
        nodes: ["node-a"],
      },
    },
    {
      name: "cluster reachable while reachable: no change recorded",
      event: { type: "cluster-reachable", clusterId, at: at(30) },
      check: (s) => s.clusters[clusterId]!.reachableChangedAt,
      expected: null,
    },
    {
      name: "cluster removed",
      event: { type: "cluster-removed", clusterId },
      check: (s) => s.clusters,
      expected: {},
    },
    {
      name: "an event of a cluster never seen starts it",
      event: { type: "node-added", clusterId: "lab", node: nodeB },
      check: (s) => ({ lab: s.clusters.lab?.nodes, prod: Object.keys(s.clusters[clusterId]!.nodes) }),
      expected: { lab: { "node-b": nodeB }, prod: ["node-a"] },
    },
  ])("$name", ({ event, check, expected }) => {
    const before = structuredClone(start);
    const after = applyInventoryEvent(start, event);
    expect(check(after)).toEqual(expected);
    // Pure: the state it was given is untouched.
    expect(start).toEqual(before);
  });

  it("records when a lost cluster comes back, and a relist clears the reason", () => {
    const lost = applyInventoryEvent(start, {
      type: "cluster-unreachable",
      clusterId,
      at: at(30),
      reason: "x",
    });
    const back = applyInventoryEvent(lost, { type: "cluster-reachable", clusterId, at: at(90) });
    expect(back.clusters[clusterId]).toMatchObject({
      reachable: true,
      reachableChangedAt: at(90),
      unreachableReason: null,
    });
    const relisted = applyInventoryEvent(lost, synced([nodeA], [ds], [], at(95)));
    expect(relisted.clusters[clusterId]).toMatchObject({
      reachable: true,
      reachableChangedAt: at(95),
      unreachableReason: null,
      syncedAt: at(95),
      podsByNode: {},
    });
  });
});

describe("replaying events equals building from the final lists", () => {
  /** A small deterministic generator (mulberry32), so a failure replays the same. */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each([1, 2, 3, 42, 2026])("seed %i", (seed) => {
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const nodeNames = ["n1", "n2", "n3", "n4", "n5"];
    const dsNames = ["sensor", "sensor-canary"];
    const podNames = Array.from({ length: 12 }, (_, i) => `sensor-${i}`);

    const nodes = new Map<string, InventoryNode>();
    const daemonSets = new Map<string, InventoryDaemonSet>();
    const pods = new Map<string, InventoryPod>();
    const events: InventoryEvent[] = [synced([], [], [])];
    for (let i = 0; i < 400; i++) {
      const kind = pick(["node", "daemonset", "pod", "pod", "pod"] as const);
      const remove = next() < 0.25;
      if (kind === "node") {
        const name = pick(nodeNames);
        if (remove) {
          nodes.delete(name);
          events.push({ type: "node-deleted", clusterId, name });
        } else {
          const node = makeNode({ name, labels: { generation: String(i) } });
          events.push({ type: nodes.has(name) ? "node-updated" : "node-added", clusterId, node });
          nodes.set(name, node);
        }
      } else if (kind === "daemonset") {
        const name = pick(dsNames);
        if (remove) {
          daemonSets.delete(`tapfleet/${name}`);
          events.push({ type: "daemonset-deleted", clusterId, namespace: "tapfleet", name });
        } else {
          const daemonSet = makeDaemonSet({ name, reportIntervalSeconds: i });
          events.push({
            type: daemonSets.has(inventoryObjectKey(daemonSet)) ? "daemonset-updated" : "daemonset-added",
            clusterId,
            daemonSet,
          });
          daemonSets.set(inventoryObjectKey(daemonSet), daemonSet);
        }
      } else {
        const name = pick(podNames);
        if (remove) {
          pods.delete(`tapfleet/${name}`);
          events.push({ type: "pod-deleted", clusterId, namespace: "tapfleet", name });
        } else {
          const pod = makePod({
            name,
            daemonSet: pick(dsNames),
            nodeName: next() < 0.1 ? null : pick(nodeNames),
            phase: pick(["Pending", "Running", "Failed"] as const),
          });
          events.push({
            type: pods.has(inventoryObjectKey(pod)) ? "pod-updated" : "pod-added",
            clusterId,
            pod,
          });
          pods.set(inventoryObjectKey(pod), pod);
        }
      }
    }

    const replayed = buildInventory(events);
    const fromLists = applyInventoryEvent(
      EMPTY_INVENTORY,
      synced([...nodes.values()], [...daemonSets.values()], [...pods.values()]),
    );
    expect(replayed).toEqual(fromLists);
  });
});
