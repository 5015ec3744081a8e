// @kubernetes/client-node informers (makeInformer + ListWatch) against the
// simulator through dropped watches, 410 Expired and 500s: the cache must end
// equal to the store. Every wait is on an informer or store event.

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type KubeObject, type RunningSimCluster } from "../src/index.ts";

let cluster: RunningSimCluster;
let informer: k8s.Informer<k8s.V1ConfigMap> & k8s.ObjectCache<k8s.V1ConfigMap>;
let lists = 0;
const errors: unknown[] = [];
/** Called after every informer callback; convergence checks hang off it. */
let onInformerEvent: () => void = () => undefined;

const NS = "default";
const cm = (name: string, value = "1"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS },
  data: { value },
});

function snapshotOfStore(): string[] {
  return cluster.store
    .list("configmaps", { namespace: NS })
    .items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)
    .sort();
}
function snapshotOfCache(): string[] {
  return informer
    .list(NS)
    .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
    .sort();
}

/** Resolves once the informer cache equals the store, re-checking on every informer and store event. */
function converged(timeoutMs = 25_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => JSON.stringify(snapshotOfCache()) === JSON.stringify(snapshotOfStore());
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(
          `informer did not converge: cache ${JSON.stringify(snapshotOfCache())} store ${JSON.stringify(snapshotOfStore())}`,
        ),
      );
    }, timeoutMs);
    const unsubscribe = cluster.store.subscribe(() => {
      if (check()) finish(resolve);
    });
    const finish = (done?: () => void): void => {
      clearTimeout(timer);
      unsubscribe();
      onInformerEvent = () => undefined;
      done?.();
    };
    onInformerEvent = () => {
      if (check()) finish(resolve);
    };
    if (check()) finish(resolve);
  });
}

/** Resolves on the next informer `connect` (a new watch started after a list or re-watch). */
function nextConnect(): Promise<void> {
  return new Promise((resolve) => {
    const handler = (): void => {
      informer.off("connect", handler);
      resolve();
    };
    informer.on("connect", handler);
  });
}

beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 1 });
  for (const name of ["a", "b", "c"]) cluster.store.create("configmaps", cm(name));

  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => {
    lists++;
    return core.listNamespacedConfigMap({ namespace: NS });
  });
  informer.on("add", () => onInformerEvent());
  informer.on("update", () => onInformerEvent());
  informer.on("delete", () => onInformerEvent());
  informer.on("connect", () => onInformerEvent());
  // ListWatch stops on errors other than 410; restart it as an application would, with a short backoff.
  informer.on("error", (error) => {
    errors.push(error);
    setTimeout(() => void informer.start().catch((e: unknown) => errors.push(e)), 100);
  });
  await informer.start();
});

afterAll(async () => {
  await informer.stop();
  await cluster.stop();
});

describe("client-node informer", () => {
  it("lists and follows changes", async () => {
    await converged();
    cluster.store.create("configmaps", cm("d"));
    const b = structuredClone(cluster.store.get("configmaps", NS, "b")!);
    b.data = { value: "2" };
    cluster.store.update("configmaps", b);
    cluster.store.delete("configmaps", NS, "a");
    await converged();
    expect(snapshotOfCache().map((s) => s.split("@")[0])).toEqual(["b", "c", "d"]);
  });

  it("re-watches after the server drops the watch and misses nothing", async () => {
    const reconnected = nextConnect();
    expect(cluster.faults.dropWatches()).toBe(1);
    // Changes made while no watch is open are replayed from the informer's resourceVersion.
    cluster.store.create("configmaps", cm("e"));
    cluster.store.delete("configmaps", NS, "c");
    await reconnected;
    await converged();
  });

  it("recovers when the watch connection breaks (socket reset)", async () => {
    const errorsBefore = errors.length;
    const reconnected = nextConnect();
    expect(cluster.faults.dropWatches({ mode: "reset" })).toBe(1);
    cluster.store.create("configmaps", cm("reset"));
    await reconnected;
    await converged();
    expect(errors.length).toBeGreaterThan(errorsBefore);
  });

  it("relists after 410 Expired and converges", async () => {
    const listsBefore = lists;
    const reconnected = nextConnect();
    // All in one tick: the informer re-watches from a version the history no longer holds.
    cluster.faults.dropWatches();
    cluster.store.create("configmaps", cm("f"));
    cluster.faults.expireHistory();
    cluster.store.delete("configmaps", NS, "d");
    await reconnected;
    await converged();
    expect(lists).toBeGreaterThan(listsBefore);
  });

  it("recovers from 500s on list and watch", async () => {
    const failuresBefore = cluster.faults.injectedFailures;
    cluster.faults.expireHistory();
    cluster.faults.fail({ code: 500, count: 3, verbs: ["list", "watch"], resource: "configmaps" });
    cluster.faults.dropWatches();
    cluster.store.create("configmaps", cm("g"));
    const e = structuredClone(cluster.store.get("configmaps", NS, "e")!);
    e.data = { value: "changed" };
    cluster.store.update("configmaps", e);
    await converged();
    expect(cluster.faults.injectedFailures - failuresBefore).toBe(3);
    expect(errors.length).toBeGreaterThan(0);
  });
});
