// startClusterWatch against a real simulated cluster through client-node's
// credentials and the real fetch: after every fault the watched objects equal
// a fresh list within 5 s, and the lists made are one at the start plus one
// per 410 or restart — nothing periodic.

import type { RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusterWatch, type ClusterWatch, type ClusterWatchEvent } from "../src/index.ts";
import {
  countOf,
  createDaemonSets,
  freshList,
  kubeConfigFor,
  recordingFetch,
  startSim,
  untilInStep,
  untilWatchesOpen,
  type RecordedRequest,
} from "./helpers.ts";

let sim: RunningSimCluster;
let watch: ClusterWatch;
let requests: RecordedRequest[];
const events: ClusterWatchEvent[] = [];
/** Informers: nodes, DaemonSets, and the pods of each of the two sensor DaemonSets. */
const INFORMERS = 4;

beforeAll(async () => {
  sim = await startSim();
  createDaemonSets(sim);
  const recorder = recordingFetch();
  requests = recorder.requests;
  watch = startClusterWatch({
    kubeConfig: kubeConfigFor(sim),
    clusterId: "sim",
    fetch: recorder.fetch,
    backoff: { initialMs: 100, maxMs: 1_000 },
    pageSize: 2,
  });
  watch.subscribe((event) => events.push(event));
  await watch.whenSynced();
  await untilWatchesOpen(sim, INFORMERS);
});
afterAll(async () => {
  await watch?.stop();
  await sim?.stop();
});

describe("startClusterWatch", () => {
  it("lists nodes, sensor DaemonSets (labelled or carrying the osSensor contract) and their pods, paged, then watches with bookmarks", async () => {
    await untilInStep(sim, watch);
    const state = freshList(sim);
    expect(
      watch
        .daemonSets()
        .map((d) => `${d.namespace}/${d.name}`)
        .sort(),
    ).toEqual(["monitoring/legacy-sensor", "tapfleet-sensor/tapfleet-sensor"]);
    expect(state.pods).toHaveLength(6);
    expect(watch.nodes()).toHaveLength(3);
    expect(watch.status).toMatchObject({ state: "reachable", serverVersion: expect.stringMatching(/^v1\./) });
    // Paged: three nodes at two a page take two requests.
    expect(requests.filter((r) => r.path === "/api/v1/nodes" && r.kind === "list")).toHaveLength(2);
    expect(requests.filter((r) => r.kind === "list").every((r) => r.query.get("limit") === "2")).toBe(true);
    const watches = requests.filter((r) => r.kind === "watch");
    expect(watches).toHaveLength(INFORMERS);
    for (const w of watches) {
      expect(w.query.get("allowWatchBookmarks")).toBe("true");
      expect(w.query.get("resourceVersion")).toMatch(/.+/);
    }
    // Pods are watched per sensor DaemonSet, in its namespace with its selector.
    expect(
      watches
        .filter((w) => w.path.endsWith("/pods"))
        .map((w) => `${w.path}?${w.query.get("labelSelector")}`)
        .sort(),
    ).toEqual([
      "/api/v1/namespaces/monitoring/pods?app=legacy-sensor",
      "/api/v1/namespaces/tapfleet-sensor/pods?app=tapfleet-sensor",
    ]);
    // Only what the product uses is kept.
    const pod = watch.pods()[0]!;
    expect(Object.keys(pod)).not.toContain("managedFields");
    expect(pod.daemonSetUid).toBeDefined();
  });

  const listsNow = (): number => countOf(requests, "list");

  it("follows changes made while watches are dropped (closed or reset), without listing again", async () => {
    const lists = listsNow();
    for (const mode of ["close", "reset"] as const) {
      expect(sim.faults.dropWatches({ mode })).toBeGreaterThanOrEqual(INFORMERS);
      sim.cluster.taint("node-1", { key: `dropped-${mode}`, effect: "NoSchedule" });
      await untilInStep(sim, watch);
      await untilWatchesOpen(sim, INFORMERS);
    }
    expect(
      watch
        .nodes()
        .find((n) => n.name === "node-1")
        ?.taints.map((t) => t.key),
    ).toEqual(expect.arrayContaining(["dropped-close", "dropped-reset"]));
    expect(listsNow()).toBe(lists);
  });

  it("relists once per informer after 410 Expired and reports only the difference", async () => {
    const lists = listsNow();
    const watchRequests = countOf(requests, "watch");
    // Keep the watches down while the cluster changes, then forget the history they would resume from.
    sim.faults.fail({ code: 503, verbs: ["watch"] });
    sim.faults.dropWatches();
    sim.cluster.addNode("node-4");
    sim.faults.expireHistory();
    sim.faults.clear();
    await untilInStep(sim, watch);
    await untilWatchesOpen(sim, INFORMERS);
    expect(watch.nodes()).toHaveLength(4);
    // One new list per informer (counted by first pages: lists page by two).
    const firstPages = requests.filter((r) => r.kind === "list" && !r.query.get("continue")).length;
    expect(firstPages).toBe(INFORMERS * 2);
    expect(listsNow() - lists).toBeGreaterThanOrEqual(INFORMERS);
    expect(countOf(requests, "watch") - watchRequests).toBeGreaterThanOrEqual(INFORMERS * 2);
    expect(events.some((e) => e.type === "error" && e.reason === "expired")).toBe(true);
  });

  it("retries 500s with backoff and honours a 429's Retry-After, then catches up", async () => {
    const lists = listsNow();
    const firstError = events.length;
    sim.faults.fail({ code: 500, count: 3, verbs: ["watch"] });
    sim.faults.dropWatches();
    sim.cluster.taint("node-2", { key: "after-500", effect: "NoSchedule" });
    await untilInStep(sim, watch);
    const errors = events.slice(firstError).filter((e) => e.type === "error");
    expect(errors.some((e) => e.type === "error" && /500/.test(e.message))).toBe(true);
    expect(watch.status.lastError).toMatch(/500/);
    expect(watch.status.state).toBe("reachable");
    expect(listsNow()).toBe(lists);

    const before = events.length;
    sim.faults.fail({ code: 429, count: 1, retryAfterSeconds: 2, verbs: ["watch"], resource: "nodes" });
    sim.faults.dropWatches();
    sim.cluster.untaint("node-2", "after-500");
    await untilInStep(sim, watch);
    const throttled = events.slice(before).find((e) => e.type === "error" && /429/.test(e.message));
    expect(throttled).toMatchObject({ resource: "node", retryInMs: 2_000 });
    expect(listsNow()).toBe(lists);
  });

  it("catches up through latency", async () => {
    sim.faults.setLatency({ ms: 400, verbs: ["watch", "list"] });
    try {
      sim.faults.dropWatches({ mode: "reset" });
      sim.cluster.setNodeReady("node-3", false);
      await untilInStep(sim, watch);
      expect(watch.nodes().find((n) => n.name === "node-3")?.ready?.status).toBe("False");
    } finally {
      sim.faults.clear();
    }
  });

  it("keeps a status post that moves only heartbeat times without announcing it", async () => {
    const node = (name: string) => sim.store.get("nodes", undefined, name)!;
    const versionBefore = node("node-1").metadata.resourceVersion;
    const from = events.length;
    // The kubelet starting again posts its node status at once: same conditions, new heartbeat times.
    sim.cluster.stopNodeKubelet("node-1");
    sim.cluster.startNodeKubelet("node-1");
    expect(node("node-1").metadata.resourceVersion).not.toBe(versionBefore);
    // A real change after it: once that is seen, the status post has been received too.
    sim.cluster.taint("node-2", { key: "after-heartbeat", effect: "NoSchedule" });
    await untilInStep(sim, watch);
    expect(watch.nodes().find((n) => n.name === "node-1")?.resourceVersion).toBe(
      node("node-1").metadata.resourceVersion,
    );
    const nodeEvents = events
      .slice(from)
      .flatMap((e) => ("key" in e && e.resource === "node" ? [`${e.type} ${e.key}`] : []));
    expect(nodeEvents).toEqual(["updated node-2"]);
  });

  it("follows a DaemonSet that becomes, or stops being, a sensor's", async () => {
    const shipper = sim.store.get("daemonsets.apps", "monitoring", "log-shipper")!;
    sim.store.update("daemonsets.apps", {
      ...shipper,
      metadata: { ...shipper.metadata, labels: { "app.kubernetes.io/part-of": "tapfleet" } },
    });
    await untilInStep(sim, watch);
    expect(watch.daemonSets()).toHaveLength(3);
    expect(watch.pods()).toHaveLength(freshList(sim).pods.length);
    const labelled = sim.store.get("daemonsets.apps", "monitoring", "log-shipper")!;
    sim.store.update("daemonsets.apps", { ...labelled, metadata: { ...labelled.metadata, labels: {} } });
    await untilInStep(sim, watch);
    expect(watch.daemonSets()).toHaveLength(2);
  });
});
