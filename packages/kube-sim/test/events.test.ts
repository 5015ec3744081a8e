// Events as a real cluster keeps them: expiring an hour after their last write,
// and served in the events.k8s.io/v1 shape too.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordEvent } from "../src/controllers/events.ts";
import { createSimCluster } from "../src/cluster.ts";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { createManualClock } from "../src/manual-clock.ts";
import { call, openWatch } from "./helpers.ts";

describe("event expiry", () => {
  it("deletes an Event an hour after its last write, on the cluster's clock", async () => {
    const clock = createManualClock();
    const c = createSimCluster({ nodes: 1, clock, heartbeats: false });
    try {
      const node = c.store.get("nodes", undefined, "node-1")!;
      const input = {
        involved: node,
        type: "Normal" as const,
        reason: "Probe",
        message: "checked",
        component: "test",
      };
      recordEvent(c.store, clock, input);
      const [first] = c.store.list("events", { fieldSelector: "reason=Probe" }).items;
      expect(first).toBeDefined();
      clock.advance(40 * 60_000);
      recordEvent(c.store, clock, input); // a repeat renews the TTL
      clock.advance(40 * 60_000);
      expect(c.store.get("events", "default", first!.metadata.name!)?.count).toBe(2);
      clock.advance(20 * 60_000);
      expect(c.store.get("events", "default", first!.metadata.name!)).toBeUndefined();
    } finally {
      await c.stop();
    }
  });

  it("takes a configured TTL", async () => {
    const clock = createManualClock();
    const c = createSimCluster({ nodes: 1, clock, heartbeats: false, eventTTLMs: 60_000 });
    try {
      recordEvent(c.store, clock, {
        involved: c.store.get("nodes", undefined, "node-1")!,
        type: "Warning",
        reason: "Short",
        message: "lived",
        component: "test",
      });
      clock.advance(59_999);
      expect(c.store.list("events", { fieldSelector: "reason=Short" }).items).toHaveLength(1);
      clock.advance(1);
      expect(c.store.list("events", { fieldSelector: "reason=Short" }).items).toHaveLength(0);
    } finally {
      await c.stop();
    }
  });
});

describe("events.k8s.io/v1", () => {
  let cluster: RunningSimCluster;
  beforeAll(async () => {
    cluster = await startSimCluster({ nodes: 1 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const record = (reason: string) =>
    recordEvent(cluster.store, cluster.cluster.clock, {
      involved: cluster.store.get("nodes", undefined, "node-1")!,
      type: "Warning",
      reason,
      message: `${reason} happened`,
      component: "kubelet",
      host: "node-1",
    });

  it("is discovered and lists the core Events in the events.k8s.io/v1 shape", async () => {
    const groups = await call(cluster, "GET", "/apis");
    const groupNames = (groups.json as { groups: { name: string }[] }).groups.map((g) => g.name);
    expect(groupNames).toContain("events.k8s.io");
    record("Rebooted");
    const res = await call(cluster, "GET", "/apis/events.k8s.io/v1/namespaces/default/events");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: "EventList", apiVersion: "events.k8s.io/v1" });
    const items = (res.json as { items: { reason?: string; metadata: { name: string } }[] }).items;
    const event = items.find((e) => e.reason === "Rebooted")!;
    expect(event).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      note: "Rebooted happened",
      type: "Warning",
      regarding: { kind: "Node", name: "node-1" },
      reportingController: "kubelet",
      reportingInstance: "node-1",
      deprecatedCount: 1,
      deprecatedSource: { component: "kubelet", host: "node-1" },
    });
    expect(event).not.toHaveProperty("message");
    expect(event).not.toHaveProperty("involvedObject");
    const one = await call(
      cluster,
      "GET",
      `/apis/events.k8s.io/v1/namespaces/default/events/${event.metadata.name}`,
    );
    expect(one.json).toMatchObject({ apiVersion: "events.k8s.io/v1", note: "Rebooted happened" });
  });

  it("watches the same store, in the same shape", async () => {
    const from = cluster.store.currentResourceVersion();
    record("Flapped");
    const watch = await openWatch(cluster, `/apis/events.k8s.io/v1/events?watch=1&resourceVersion=${from}`);
    expect(await watch.next()).toMatchObject({
      type: "ADDED",
      object: { apiVersion: "events.k8s.io/v1", kind: "Event", reason: "Flapped", note: "Flapped happened" },
    });
    watch.close();
  });

  it("refuses writes with 405", async () => {
    const res = await call(cluster, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", {
      body: { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "x" } },
    });
    expect(res.status).toBe(405);
  });
});
