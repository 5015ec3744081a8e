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

/** The same, with more pages on the server after these rows. */
function firstPage(...items: NodeItem[]): InfiniteData<{ items: NodeItem[]; nextCursor: string | null }> {
  return { pages: [{ items, nextCursor: "more" }], pageParams: [undefined] };
}

function nodeEvent(nodeName: string, state: NodeItem["state"], sensorId: string | null = null) {
  const { sensor: _sensor, updatedAt: _updatedAt, ...rest } = item(nodeName, state);
  return { type: "node" as const, node: { ...rest, reason: "changed", sensorId } };
}

const none = { clusters: ["eu"], state: undefined, search: undefined };

describe("applyNodeEvent", () => {
  it("changes a loaded row in place, keeping its sensor", () => {
    const data = pages(item("node-1", "covered", "s1"), item("node-2", "covered"));
    const next = applyNodeEvent(data, nodeEvent("node-1", "silent", "s1"), none);
    expect(next?.pages[0]?.items[0]).toMatchObject({
      state: "silent",
      reason: "changed",
      sensor: { id: "s1" },
    });
    expect(next?.pages[0]?.items[1]).toBe(data.pages[0]?.items[1]);
  });

  it("drops a row that no longer matches the state filter, and asks again for one that now does", () => {
    const filter = { clusters: ["eu"], state: "covered" as const, search: undefined };
    const data = pages(item("node-1", "covered"), item("node-2", "covered"));
    expect(applyNodeEvent(data, nodeEvent("node-2", "excluded"), filter)?.pages[0]?.items).toHaveLength(1);
    expect(applyNodeEvent(pages(), nodeEvent("node-3", "covered"), filter)).toBeNull();
    expect(applyNodeEvent(data, nodeEvent("node-3", "silent"), filter)).toBe(data);
  });

  it("follows the search in node and pod names", () => {
    const data = pages(item("gpu-1", "covered"));
    expect(
      applyNodeEvent(data, nodeEvent("cpu-9", "covered"), {
        clusters: ["eu"],
        state: undefined,
        search: "GPU",
      }),
    ).toBe(data);
    expect(
      applyNodeEvent(data, nodeEvent("gpu-2", "covered"), {
        clusters: ["eu"],
        state: undefined,
        search: "gpu",
      }),
    ).toBeNull();
  });

  it("removes a removed row, reads again on resync or another sensor, ignores other clusters", () => {
    const data = pages(item("node-1", "covered", "s1"));
    const removed = applyNodeEvent(
      data,
      { type: "node-removed", clusterId: "eu", nodeName: "node-1", daemonSet: ds },
      none,
    );
    expect(removed?.pages[0]?.items).toEqual([]);
    expect(applyNodeEvent(data, { type: "resync", clusterId: "eu" }, none)).toBeNull();
    expect(applyNodeEvent(data, { type: "resync", clusterId: "us" }, none)).toBe(data);
    // The cluster itself removed: the pages are read again (and find nothing).
    expect(applyNodeEvent(data, { type: "cluster-removed", clusterId: "eu" }, none)).toBeNull();
    expect(applyNodeEvent(data, { type: "cluster-removed", clusterId: "us" }, none)).toBe(data);
    expect(applyNodeEvent(data, nodeEvent("node-1", "covered", "s2"), none)).toBeNull();
    expect(applyNodeEvent(data, { type: "cluster", clusterId: "eu" }, none)).toBe(data);
  });

  it("reads again when a row's place in the sort order moves, and changes it in place when it does not", () => {
    const data = pages(item("node-1", "covered"), item("node-2", "covered"));
    const byState = { ...none, sort: "state" as const, order: "asc" as const };
    expect(applyNodeEvent(data, nodeEvent("node-1", "crash-looping"), byState)).toBeNull();
    expect(
      applyNodeEvent(data, nodeEvent("node-1", "crash-looping"), none)?.pages[0]?.items[0],
    ).toMatchObject({
      state: "crash-looping",
    });
    const bySince = { ...none, sort: "since" as const, order: "desc" as const };
    const moved = nodeEvent("node-1", "covered");
    expect(
      applyNodeEvent(data, { ...moved, node: { ...moved.node, since: "2026-02-01T00:00:00.000Z" } }, bySince),
    ).toBeNull();
    expect(applyNodeEvent(data, moved, bySince)?.pages[0]?.items[0]).toMatchObject({ reason: "changed" });
  });

  it("leaves a new row that sorts after the loaded pages to the page that will hold it", () => {
    const loaded = firstPage(item("node-1", "covered"), item("node-5", "covered"));
    expect(applyNodeEvent(loaded, nodeEvent("node-9", "covered"), none)).toBe(loaded);
    expect(applyNodeEvent(loaded, nodeEvent("node-3", "covered"), none)).toBeNull();
    const descending = { ...none, order: "desc" as const };
    const loadedDown = firstPage(item("node-9", "covered"), item("node-5", "covered"));
    expect(applyNodeEvent(loadedDown, nodeEvent("node-1", "covered"), descending)).toBe(loadedDown);
    expect(applyNodeEvent(loadedDown, nodeEvent("node-7", "covered"), descending)).toBeNull();
    // Problems first: a new crash-looping row belongs before the loaded covered ones.
    const byState = { ...none, sort: "state" as const, order: "asc" as const };
    expect(applyNodeEvent(loaded, nodeEvent("node-9", "crash-looping"), byState)).toBeNull();
    expect(applyNodeEvent(loaded, nodeEvent("node-9", "excluded"), byState)).toBe(loaded);
    // The last page loaded: every matching new row is read.
    expect(applyNodeEvent(pages(item("node-1", "covered")), nodeEvent("node-9", "covered"), none)).toBeNull();
  });

  it("follows every cluster on the fleet's table, and only the filtered ones when filtered", () => {
    const data = pages(item("node-1", "covered"));
    const fleet = { state: undefined, search: undefined };
    const other = {
      type: "node" as const,
      node: { ...nodeEvent("node-2", "covered").node, clusterId: "us" },
    };
    expect(applyNodeEvent(data, other, fleet)).toBeNull();
    expect(applyNodeEvent(data, other, { ...fleet, clusters: ["eu", "ap"] })).toBe(data);
    expect(applyNodeEvent(data, { type: "resync", clusterId: "us" }, fleet)).toBeNull();
    // The same node name in another cluster is another row.
    const twin = { type: "node" as const, node: { ...nodeEvent("node-1", "silent").node, clusterId: "us" } };
    expect(applyNodeEvent(data, twin, fleet)).toBeNull();
    expect(applyNodeEvent(data, twin, { ...fleet, clusters: ["us"] })).toBeNull();
  });
});
