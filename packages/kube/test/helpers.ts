// Shared by the kube integration tests: a real simulated cluster, the real
// client-node KubeConfig, and the real undici fetch wrapped to record requests.

import * as k8s from "@kubernetes/client-node";
import {
  startSimCluster,
  type RunningSimCluster,
  type SimObjectStore,
  type StartSimClusterOptions,
} from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { fetch as undiciFetch } from "undici";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import {
  trimNode,
  trimPod,
  trimSensorDaemonSet,
  type ClusterWatch,
  type FetchLike,
  type KubeDaemonSet,
} from "../src/index.ts";

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  kind: "list" | "watch" | "version" | "other";
}

/** The real fetch, recording each request (the simulator keeps no request log of its own). */
export function recordingFetch(): { fetch: FetchLike; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const real = undiciFetch as unknown as FetchLike;
  return {
    requests,
    fetch: (url, init) => {
      const parsed = new URL(url);
      const kind =
        parsed.pathname === "/version"
          ? "version"
          : parsed.searchParams.get("watch") === "true"
            ? "watch"
            : /\/(nodes|daemonsets|pods)$/.test(parsed.pathname)
              ? "list"
              : "other";
      requests.push({ path: parsed.pathname, query: parsed.searchParams, kind });
      return real(url, init);
    },
  };
}

export const countOf = (requests: RecordedRequest[], kind: RecordedRequest["kind"]): number =>
  requests.filter((r) => r.kind === kind).length;

export function kubeConfigFor(sim: RunningSimCluster): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  return kubeConfig;
}

export function startSim(options: StartSimClusterOptions = {}): Promise<RunningSimCluster> {
  return startSimCluster({ nodes: 3, kubelet: "fake", bookmarkIntervalMs: 1_000, ...options });
}

/** What the helpers read of a simulated cluster. */
export interface HasStore {
  store: SimObjectStore;
}

/** A DaemonSet labelled as Tapfleet's, one carrying the osSensor contract elsewhere, and one that is neither. */
export function createDaemonSets(sim: HasStore): void {
  for (const name of ["tapfleet-sensor", "monitoring"])
    if (!sim.store.get("namespaces", undefined, name))
      sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  const labelled = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet-sensor" });
  labelled.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", labelled);
  sim.store.create(
    "daemonsets.apps",
    daemonSetFixture({
      name: "legacy-sensor",
      namespace: "monitoring",
      env: [{ name: "VSENSOR_HOSTNAME", value: "collector.example.com" }],
    }),
  );
  sim.store.create("daemonsets.apps", daemonSetFixture({ name: "log-shipper", namespace: "monitoring" }));
}

const byName = <T extends { name: string; namespace?: string }>(a: T, b: T): number =>
  `${a.namespace ?? ""}/${a.name}`.localeCompare(`${b.namespace ?? ""}/${b.name}`);

/** What a fresh list of the simulator gives, trimmed like the watch trims. */
export function freshList(sim: HasStore) {
  const nodes = sim.store.list("nodes").items.map(trimNode).sort(byName);
  const daemonSets = sim.store
    .list("daemonsets.apps")
    .items.map(trimSensorDaemonSet)
    .filter((d): d is KubeDaemonSet => d !== undefined)
    .sort(byName);
  const uids = new Set(daemonSets.map((d) => d.uid));
  const pods = sim.store
    .list("pods")
    .items.map(trimPod)
    .filter((p) => p.daemonSetUid !== undefined && uids.has(p.daemonSetUid))
    .sort(byName);
  return { nodes, daemonSets, pods };
}

export function watchedState(watch: ClusterWatch) {
  return {
    nodes: watch.nodes().sort(byName),
    daemonSets: watch.daemonSets().sort(byName),
    pods: watch.pods().sort(byName),
  };
}

/** Resolves when `check` holds, re-checked on every event of the watch and every change in the simulator. */
export function until(
  sim: HasStore | undefined,
  watch: ClusterWatch,
  check: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`not within ${timeoutMs} ms: ${what}`));
    }, timeoutMs);
    const recheck = (): void => {
      if (!check()) return;
      stop();
      resolve();
    };
    const unsubscribeWatch = watch.subscribe(recheck);
    const unsubscribeSim = sim?.store.subscribe(recheck);
    const stop = (): void => {
      clearTimeout(timer);
      unsubscribeWatch();
      unsubscribeSim?.();
    };
  });
}

/** Waits until the watch's store equals a fresh list of the simulator. */
export function untilInStep(sim: HasStore, watch: ClusterWatch, timeoutMs = 5_000): Promise<void> {
  let last = "";
  const check = (): boolean => {
    const fresh = JSON.stringify(freshList(sim));
    last = JSON.stringify(watchedState(watch));
    return watch.synced && fresh === last;
  };
  return until(sim, watch, check, "the watched objects equal a fresh list", timeoutMs).catch(
    (error: Error) => {
      throw new Error(
        `${error.message}\nwatched: ${last.slice(0, 400)}\nfresh:   ${JSON.stringify(freshList(sim)).slice(0, 400)}`,
      );
    },
  );
}

/** The simulator announces no watch being opened, so this one is polled. */
export function untilWatchesOpen(sim: RunningSimCluster, count: number): Promise<number> {
  return waitFor(() => sim.faults.openWatches, {
    what: `${count} open watches`,
    timeoutMs: 5_000,
    until: (open) => open >= count,
  });
}
