import type { InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { applyNodeEvent, type NodeItem } from "./apply-node-event";

const ds = { namespace: "tapfleet", name: "tapfleet-sensor" };

function item(nodeName: string, state: NodeItem["state"], sensorId: string | null = null): NodeItem {
  return {
    clusterId: "eu",
    nodeName,
    daemonSet: ds,
    state,
    reason: "r",
    since: "2026-01-01T00:00:00.000Z",
    shouldRun: true,
    changesAt: null,
    stale: false,
    podName: `pod-${nodeName}`,
    details: null,
    updatedAt: "2026-01-01T00:00:00.000Z",
    sensor: sensorId
      ? { id: sensorId, agentVersion: "1", lastSeenAt: "2026-01-01T00:00:00.000Z", lastSummary: null }
      : null,
  };
}

function pages(...items: NodeItem[]): InfiniteData<{ items: NodeItem[]; nextCursor: string | null }> {
  return { pages: [{ items, nextCursor: null }], pageParams: [undefined] };
}

function nodeEvent(nodeName: string, state: NodeItem["state"], sensorId: string | null = null) {
  const { sensor: _sensor, updatedAt: _updatedAt, ...rest } = item(nodeName, state);
  return { type: "node" as const, node: { ...rest, reason: "changed", sensorId } };
}

const none = { state: undefined, search: undefined };

describe("applyNodeEvent", () => {
  it("changes a loaded row in place, keeping its sensor", () => {
    const data = pages(item("node-1", "covered", "s1"), item("node-2", "covered"));
    const next = applyNodeEvent(data, nodeEvent("node-1", "silent", "s1"), none, "eu");
    expect(next?.pages[0]?.items[0]).toMatchObject({
      state: "silent",
      reason: "changed",
      sensor: { id: "s1" },
    });
    expect(next?.pages[0]?.items[1]).toBe(data.pages[0]?.items[1]);
  });

  it("drops a row that no longer matches the state filter, and asks again for one that now does", () => {
    const filter = { state: "covered" as const, search: undefined };
    const data = pages(item("node-1", "covered"), item("node-2", "covered"));
    expect(applyNodeEvent(data, nodeEvent("node-2", "excluded"), filter, "eu")?.pages[0]?.items).toHaveLength(
      1,
    );
    expect(applyNodeEvent(pages(), nodeEvent("node-3", "covered"), filter, "eu")).toBeNull();
    expect(applyNodeEvent(data, nodeEvent("node-3", "silent"), filter, "eu")).toBe(data);
  });

  it("follows the search in node and pod names", () => {
    const data = pages(item("gpu-1", "covered"));
    expect(
      applyNodeEvent(data, nodeEvent("cpu-9", "covered"), { state: undefined, search: "GPU" }, "eu"),
    ).toBe(data);
    expect(
      applyNodeEvent(data, nodeEvent("gpu-2", "covered"), { state: undefined, search: "gpu" }, "eu"),
    ).toBeNull();
  });

  it("removes a removed row, reads again on resync or another sensor, ignores other clusters", () => {
    const data = pages(item("node-1", "covered", "s1"));
    const removed = applyNodeEvent(
      data,
      { type: "node-removed", clusterId: "eu", nodeName: "node-1", daemonSet: ds },
      none,
      "eu",
    );
    expect(removed?.pages[0]?.items).toEqual([]);
    expect(applyNodeEvent(data, { type: "resync", clusterId: "eu" }, none, "eu")).toBeNull();
    expect(applyNodeEvent(data, { type: "resync", clusterId: "us" }, none, "eu")).toBe(data);
    // The cluster itself removed: the pages are read again (and find nothing).
    expect(applyNodeEvent(data, { type: "cluster-removed", clusterId: "eu" }, none, "eu")).toBeNull();
    expect(applyNodeEvent(data, { type: "cluster-removed", clusterId: "us" }, none, "eu")).toBe(data);
    expect(applyNodeEvent(data, nodeEvent("node-1", "covered", "s2"), none, "eu")).toBeNull();
    expect(applyNodeEvent(data, { type: "cluster", clusterId: "eu" }, none, "eu")).toBe(data);
  });
});
