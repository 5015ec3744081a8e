// Pod logs (tail, follow, abort) and events of a DaemonSet's pods, from a simulated cluster.

import type { RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listEvents, readPodLog, startClusterWatch, type ClusterWatch, type KubePod } from "../src/index.ts";
import { createDaemonSets, kubeConfigFor, startSim, until } from "./helpers.ts";

let sim: RunningSimCluster;
let watch: ClusterWatch;
let pod: KubePod;

beforeAll(async () => {
  sim = await startSim({ nodes: 1 });
  createDaemonSets(sim);
  watch = startClusterWatch({ kubeConfig: kubeConfigFor(sim), clusterId: "logs" });
  await watch.whenSynced();
  await until(sim, watch, () => watch.pods().some((p) => p.phase === "Running"), "a running sensor pod");
  pod = watch.pods().find((p) => p.phase === "Running")!;
});
afterAll(async () => {
  await watch?.stop();
  await sim?.stop();
});

describe("readPodLog", () => {
  it("reads a container's log, and its tail", async () => {
    const lines: string[] = [];
    for await (const line of readPodLog({
      kubeConfig: kubeConfigFor(sim),
      namespace: pod.namespace,
      pod: pod.name,
    }))
      lines.push(line);
    expect(lines.join("\n")).toMatch(/container agent started/);
    const none: string[] = [];
    for await (const line of readPodLog({
      kubeConfig: kubeConfigFor(sim),
      namespace: pod.namespace,
      pod: pod.name,
      tail: 0,
    }))
      none.push(line);
    expect(none).toEqual([]);
  });

  it("follows until aborted, and the abort ends the iteration without an error", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    for await (const line of readPodLog({
      kubeConfig: kubeConfigFor(sim),
      namespace: pod.namespace,
      pod: pod.name,
      follow: true,
      signal: controller.signal,
    })) {
      lines.push(line);
      controller.abort();
    }
    expect(lines).toHaveLength(1);
  });

  it("names the refusal: a pod that does not exist, a negative tail", async () => {
    const read = async (options: { pod: string; tail?: number }): Promise<void> => {
      for await (const line of readPodLog({
        kubeConfig: kubeConfigFor(sim),
        namespace: pod.namespace,
        ...options,
      }))
        void line;
    };
    await expect(read({ pod: "nope" })).rejects.toThrow(/reading the log of pod .*\/nope/);
    await expect(read({ pod: "nope" }).catch((e: Error) => Promise.reject(e.cause as Error))).rejects.toThrow(
      /404/,
    );
    await expect(read({ pod: pod.name, tail: -1 })).rejects.toThrow(/tail must be/);
  });
});

describe("listEvents", () => {
  it("lists the events of a sensor DaemonSet", async () => {
    const daemonSet = watch.daemonSets().find((d) => d.uid === pod.daemonSetUid)!;
    const events = await listEvents({
      kubeConfig: kubeConfigFor(sim),
      namespace: daemonSet.namespace,
      involvedObject: { kind: "DaemonSet", name: daemonSet.name },
    });
    expect(events.map((e) => e.reason)).toContain("SuccessfulCreate");
    expect(events.every((e) => e.involvedObject.name === daemonSet.name)).toBe(true);
    expect(events.find((e) => e.reason === "SuccessfulCreate")?.source.component).toBe(
      "daemonset-controller",
    );
  });
});
