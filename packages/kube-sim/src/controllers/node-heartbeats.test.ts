import { afterEach, describe, expect, it } from "vitest";
import { createSimCluster, type SimCluster, type SimClusterOptions } from "../cluster.ts";
import { createManualClock, type ManualClock } from "../manual-clock.ts";
import type { KubeObject, StoreEvent } from "../types.ts";

type Json = Record<string, unknown>;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function start(options: SimClusterOptions = {}): { c: SimCluster; clock: ManualClock; events: StoreEvent[] } {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  cluster = createSimCluster({ nodes: 3, clock, ...options });
  const events: StoreEvent[] = [];
  cluster.store.subscribe((e) => events.push(e));
  return { c: cluster, clock, events };
}

function condition(node: KubeObject | undefined, type: string): Json {
  return ((node?.status?.conditions ?? []) as Json[]).find((c) => c.type === type) ?? {};
}

function taints(node: KubeObject | undefined): string[] {
  return ((node?.spec?.taints ?? []) as Json[]).map((t) => `${String(t.key)}:${String(t.effect)}`);
}

describe("node heartbeats", () => {
  it("renews each node's Lease in kube-node-lease every 10 s and posts node status every 5 min", () => {
    const { c, clock, events } = start();
    const lease = c.store.get("leases.coordination.k8s.io", "kube-node-lease", "node-1")!;
    expect(lease.spec).toMatchObject({ holderIdentity: "node-1", leaseDurationSeconds: 40 });
    expect(lease.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Node", name: "node-1" });

    clock.advance(60_000);
    const leaseWrites = events.filter((e) => e.resource === "leases.coordination.k8s.io");
    // Six renewals a minute per node, spread over the period (not all at once).
    expect(leaseWrites.length).toBeGreaterThanOrEqual(15);
    expect(leaseWrites.length).toBeLessThanOrEqual(21);
    const renewed = c.store.get("leases.coordination.k8s.io", "kube-node-lease", "node-1")!;
    expect(Date.parse(String(renewed.spec?.renewTime))).toBeGreaterThan(clock.now() - 10_001);
    // No node status posts within the report frequency when nothing changed.
    expect(events.filter((e) => e.resource === "nodes")).toEqual([]);

    clock.advance(300_000);
    const nodeWrites = events.filter((e) => e.resource === "nodes");
    expect(nodeWrites.map((e) => e.type)).toEqual(["MODIFIED", "MODIFIED", "MODIFIED"]);
    const ready = condition(c.store.get("nodes", undefined, "node-2"), "Ready");
    expect(Date.parse(String(ready.lastHeartbeatTime))).toBeGreaterThan(Date.UTC(2026, 0, 1, 0, 5));
    expect(ready.status).toBe("True");
  });

  it("spreads the status posts of an established cluster's nodes evenly over the report period", () => {
    const { clock, events } = start({ nodes: 600, establishedNodes: true });
    const perMinute: number[] = [];
    for (let minute = 0; minute < 10; minute++) {
      const from = events.length;
      clock.advance(60_000);
      perMinute.push(events.slice(from).filter((e) => e.resource === "nodes").length);
    }
    // 600 nodes every 5 min: 120 a minute from the first minute on, each node once per period.
    for (const count of perMinute) {
      expect(count).toBeGreaterThan(80);
      expect(count).toBeLessThan(160);
    }
    expect(perMinute.slice(0, 5).reduce((a, b) => a + b, 0)).toBe(600);
    expect(perMinute.slice(5).reduce((a, b) => a + b, 0)).toBe(600);
  });

  it("gives a new node a lease on the next tick, and a deleted node's lease goes with it", () => {
    const { c, clock } = start();
    c.addNode("node-9");
    clock.advance(1_000);
    expect(c.store.get("leases.coordination.k8s.io", "kube-node-lease", "node-9")).toBeDefined();
    c.removeNode("node-9");
    clock.flush();
    expect(c.store.get("leases.coordination.k8s.io", "kube-node-lease", "node-9")).toBeUndefined();
  });

  it("keeps Ready=True through the grace period after the kubelet stops, then Unknown and unreachable taints", () => {
    const { c, clock } = start();
    c.stopNodeKubelet("node-2");
    clock.advance(35_000);
    expect(condition(c.store.get("nodes", undefined, "node-2"), "Ready").status).toBe("True");
    expect(taints(c.store.get("nodes", undefined, "node-2"))).toEqual([]);

    clock.advance(15_000);
    const node = c.store.get("nodes", undefined, "node-2");
    expect(condition(node, "Ready")).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
    });
    expect(condition(node, "MemoryPressure").status).toBe("Unknown");
    expect(taints(node)).toEqual([
      "node.kubernetes.io/unreachable:NoSchedule",
      "node.kubernetes.io/unreachable:NoExecute",
    ]);
    // The other nodes kept renewing.
    expect(condition(c.store.get("nodes", undefined, "node-1"), "Ready").status).toBe("True");

    c.startNodeKubelet("node-2");
    clock.flush();
    const back = c.store.get("nodes", undefined, "node-2");
    expect(condition(back, "Ready")).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(taints(back)).toEqual([]);
  });

  it("honours a configured grace period", () => {
    const { c, clock } = start({ nodeMonitorGracePeriodMs: 10_000, nodeMonitorPeriodMs: 1_000 });
    c.stopNodeKubelet("node-1");
    clock.advance(9_000);
    expect(condition(c.store.get("nodes", undefined, "node-1"), "Ready").status).toBe("True");
    clock.advance(12_000);
    expect(condition(c.store.get("nodes", undefined, "node-1"), "Ready").status).toBe("Unknown");
  });

  it("gives Ready=False at once when the kubelet reports NotReady, and its heartbeats keep reporting it", () => {
    const { c, clock } = start();
    c.setNodeReady("node-3", false);
    clock.flush();
    expect(condition(c.store.get("nodes", undefined, "node-3"), "Ready")).toMatchObject({
      status: "False",
      reason: "KubeletNotReady",
    });
    expect(taints(c.store.get("nodes", undefined, "node-3"))).toEqual([
      "node.kubernetes.io/not-ready:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
    ]);
    c.stopNodeKubelet("node-3");
    clock.advance(60_000);
    expect(condition(c.store.get("nodes", undefined, "node-3"), "Ready").status).toBe("Unknown");
    c.startNodeKubelet("node-3");
    clock.advance(600_000);
    expect(condition(c.store.get("nodes", undefined, "node-3"), "Ready").status).toBe("False");
  });

  it("can be turned off", () => {
    const { c, clock, events } = start({ heartbeats: false });
    clock.advance(600_000);
    expect(events).toEqual([]);
    expect(c.store.list("leases.coordination.k8s.io").items).toEqual([]);
  });
});
