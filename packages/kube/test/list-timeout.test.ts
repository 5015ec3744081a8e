// A list page that does not come back fails after the cluster watch's page
// time-out and is tried again after the backoff. With a list limit shared by
// many clusters (the inventory reads four clusters' lists at once), a cluster
// whose API stops answering mid-list would otherwise hold its slot, and every
// other cluster's first list, for as long as the HTTP client's own limits.
import type { RunningSimCluster } from "@tapfleet/kube-sim";
import pLimit from "p-limit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startClusterWatch, type ClusterWatch } from "../src/index.ts";
import { kubeConfigFor, startSim } from "./helpers.ts";

let slow: RunningSimCluster;
let quick: RunningSimCluster;
const watches: ClusterWatch[] = [];

beforeAll(async () => {
  [slow, quick] = await Promise.all([startSim(), startSim()]);
});
afterAll(async () => {
  await Promise.all(watches.map((watch) => watch.stop()));
  await Promise.all([slow?.stop(), quick?.stop()]);
});

it("fails a list page that outlives its time-out, freeing a shared list slot for another cluster", async () => {
  // The slow cluster's node list answers after 60 s: far beyond the page time-out below.
  slow.faults.setLatency({ ms: 60_000, verbs: ["list"], resource: "nodes" });
  const oneAtATime = pLimit(1);
  const options = {
    listLimit: oneAtATime,
    listPageTimeoutMs: 500,
    backoff: { initialMs: 5_000, maxMs: 5_000 },
  };
  const first = startClusterWatch({ kubeConfig: kubeConfigFor(slow), clusterId: "slow", ...options });
  watches.push(first);
  // The slow cluster takes the only slot first.
  await waitFor(() => (oneAtATime.activeCount === 1 ? true : undefined), {
    what: "the slow cluster's list to hold the slot",
    timeoutMs: 5_000,
  });
  const startedAt = Date.now();
  const second = startClusterWatch({ kubeConfig: kubeConfigFor(quick), clusterId: "quick", ...options });
  watches.push(second);
  // Without the time-out the slow list held the slot for 60 s and this timed out.
  await second.whenSynced();
  expect(Date.now() - startedAt).toBeLessThan(10_000);
  expect(second.nodes()).toHaveLength(3);
  await waitFor(() => first.status.lastError, { what: "the slow cluster's list error", timeoutMs: 5_000 });
  expect(first.synced).toBe(false);
  // Once the cluster answers again, its next try lists it.
  slow.faults.clear();
  await first.whenSynced();
  expect(first.nodes()).toHaveLength(3);
}, 30_000);
