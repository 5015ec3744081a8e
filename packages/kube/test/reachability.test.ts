// A silent watch is restarted without listing again, and a cluster whose API
// server stops is reported unreachable within 10 s and followed again when it
// comes back on the same port.

import * as k8s from "@kubernetes/client-node";
import { createSimCluster, kubeconfigFor, startApiServer, type ApiServer } from "@tapfleet/kube-sim";
import { stringify as toYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { startClusterWatch, type ClusterWatchEvent } from "../src/index.ts";
import {
  countOf,
  createDaemonSets,
  recordingFetch,
  startSim,
  until,
  untilInStep,
  untilWatchesOpen,
} from "./helpers.ts";

describe("reachability", () => {
  it("restarts watches that send nothing, from where they were, without listing again", async () => {
    // Bookmarks once a minute: the watches go silent.
    const sim = await startSim({ bookmarkIntervalMs: 60_000 });
    const recorder = recordingFetch();
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromString(sim.kubeconfig());
    const watch = startClusterWatch({
      kubeConfig,
      clusterId: "quiet",
      fetch: recorder.fetch,
      probeAfterMs: 300,
      quietAfterMs: 1_500,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const events: ClusterWatchEvent[] = [];
    watch.subscribe((event) => events.push(event));
    try {
      await watch.whenSynced();
      const lists = countOf(recorder.requests, "list");
      await until(
        sim,
        watch,
        () => events.filter((e) => e.type === "error" && e.reason === "quiet").length >= 2,
        "both watches restarted for silence",
      );
      await untilWatchesOpen(sim, 2);
      sim.cluster.taint("node-2", { key: "after-silence", effect: "NoSchedule" });
      await untilInStep(sim, watch);
      expect(countOf(recorder.requests, "list")).toBe(lists);
      // The server answered its /version probe all along.
      expect(countOf(recorder.requests, "version")).toBeGreaterThanOrEqual(2);
      expect(watch.status.state).toBe("reachable");
    } finally {
      await watch.stop();
      await sim.stop();
    }
  });

  it("reports a stopped API server unreachable within 10 s and catches up when it is back on the same port", async () => {
    const cluster = createSimCluster({ nodes: 2, kubelet: "fake" });
    const token = "reachability-token";
    let server: ApiServer = await startApiServer({ store: cluster.store, token, bookmarkIntervalMs: 1_000 });
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromString(
      toYaml(kubeconfigFor([{ name: "sim", url: server.url, token, caCertificate: server.caCertificate }])),
    );
    const sim = { store: cluster.store };
    createDaemonSets(sim);
    const watch = startClusterWatch({
      kubeConfig,
      clusterId: "restarting",
      backoff: { initialMs: 200, maxMs: 2_000 },
    });
    try {
      await watch.whenSynced();
      await untilInStep(sim, watch);
      expect(watch.status.state).toBe("reachable");

      // A watch that reconnects while the server closes (mid TLS handshake) would hold close() open:
      // refuse resource requests first, so every request in flight ends.
      server.faults.fail({ code: 503 });
      const stoppedAt = Date.now();
      await server.close();
      await until(undefined, watch, () => watch.status.state === "unreachable", "unreachable", 10_000);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expect(watch.status.lastError).toMatch(/does not answer|no answer/);
      // The last known objects stay readable while the cluster is away.
      expect(watch.nodes()).toHaveLength(2);

      cluster.taint("node-1", { key: "while-away", effect: "NoSchedule" });
      server = await startApiServer({
        store: cluster.store,
        token,
        port: server.port,
        bookmarkIntervalMs: 1_000,
      });
      await until(undefined, watch, () => watch.status.state === "reachable", "reachable again", 10_000);
      await untilInStep(sim, watch, 10_000);
      expect(
        watch
          .nodes()
          .find((n) => n.name === "node-1")
          ?.taints.map((t) => t.key),
      ).toContain("while-away");
    } finally {
      await watch.stop();
      await server.close();
      await cluster.stop();
    }
  });
});
