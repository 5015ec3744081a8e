// The watch wire format, checked on the raw stream.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { openWatch } from "./helpers.ts";

let cluster: RunningSimCluster;
beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 1, bookmarkIntervalMs: 200 });
});
afterAll(async () => {
  await cluster.stop();
});

const cm = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", labels },
  data: { a: "1" },
});

describe("watch", () => {
  it("sends headers at once, synthetic ADDED from version 0, then live events with kind and apiVersion", async () => {
    cluster.store.create("configmaps", cm("w1"));
    const watch = await openWatch(cluster, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0");
    expect(watch.status).toBe(200);
    expect(watch.contentType).toBe("application/json");
    const added = await watch.next();
    expect(added).toMatchObject({
      type: "ADDED",
      object: { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "w1" } },
    });
    cluster.store.create("configmaps", cm("w2"));
    expect(await watch.next()).toMatchObject({
      type: "ADDED",
      object: { kind: "ConfigMap", metadata: { name: "w2" } },
    });
    const w2 = cluster.store.get("configmaps", "default", "w2")!;
    cluster.store.delete("configmaps", "default", "w2");
    const deleted = await watch.next();
    expect(deleted.type).toBe("DELETED");
    expect(Number(deleted.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(w2.metadata.resourceVersion),
    );
    watch.close();
  });

  it("replays strictly after a resourceVersion", async () => {
    const from = cluster.store.currentResourceVersion();
    cluster.store.create("configmaps", cm("r1"));
    cluster.store.create("configmaps", cm("r2"));
    const watch = await openWatch(
      cluster,
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}`,
    );
    expect((await watch.next()).object.metadata.name).toBe("r1");
    expect((await watch.next()).object.metadata.name).toBe("r2");
    watch.close();
  });

  it("answers a too old resourceVersion with one ERROR 410 Expired event and ends the stream", async () => {
    const old = cluster.store.currentResourceVersion();
    cluster.store.create("configmaps", cm("e1"));
    cluster.faults.expireHistory();
    const watch = await openWatch(
      cluster,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}`,
    );
    expect(watch.status).toBe(200);
    const event = await watch.next();
    expect(event.type).toBe("ERROR");
    expect(event.object).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: expect.stringMatching(new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`)),
      reason: "Expired",
      code: 410,
    });
    await watch.ended;
  });

  it("sends BOOKMARKs with only kind, apiVersion and resourceVersion when allowed", async () => {
    const watch = await openWatch(
      cluster,
      "/apis/apps/v1/namespaces/default/daemonsets?watch=1&allowWatchBookmarks=true&resourceVersion=0",
    );
    const event = await watch.next();
    expect(event).toEqual({
      type: "BOOKMARK",
      object: {
        kind: "DaemonSet",
        apiVersion: "apps/v1",
        metadata: { resourceVersion: cluster.store.currentResourceVersion() },
      },
    });
    watch.close();
  });

  it("ends after timeoutSeconds", async () => {
    const watch = await openWatch(cluster, "/api/v1/nodes?watch=1&timeoutSeconds=1");
    await watch.ended;
  });

  it("filters by label selector and sends DELETED when an object leaves the selection", async () => {
    cluster.store.create("configmaps", cm("sel", { team: "a" }));
    const watch = await openWatch(
      cluster,
      "/api/v1/namespaces/default/configmaps?watch=1&labelSelector=team%3Da",
    );
    expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "sel" } } });
    cluster.store.create("configmaps", cm("other", { team: "b" }));
    const current = structuredClone(cluster.store.get("configmaps", "default", "sel")!);
    current.metadata.labels = { team: "b" };
    cluster.store.update("configmaps", current);
    expect(await watch.next()).toMatchObject({ type: "DELETED", object: { metadata: { name: "sel" } } });
    watch.close();
  });

  it("replays each event as it happened: created in the window is ADDED, created and deleted is ADDED then DELETED", async () => {
    cluster.store.create("configmaps", cm("before"));
    const from = cluster.store.currentResourceVersion();
    const before = structuredClone(cluster.store.get("configmaps", "default", "before")!);
    before.data = { a: "2" };
    cluster.store.update("configmaps", before);
    cluster.store.create("configmaps", cm("born"));
    cluster.store.create("configmaps", cm("brief"));
    cluster.store.delete("configmaps", "default", "brief");
    const watch = await openWatch(
      cluster,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${from}`,
    );
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const e = await watch.next();
      seen.push(`${e.type} ${e.object.metadata.name}`);
    }
    expect(seen).toEqual(["MODIFIED before", "ADDED born", "ADDED brief", "DELETED brief"]);
    // Live events continue the same story.
    cluster.store.create("configmaps", cm("after"));
    expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "after" } } });
    watch.close();
  });

  it("replays a label-selected watch with objects leaving the selection as DELETED and entering it as ADDED", async () => {
    cluster.store.create("configmaps", cm("leaver", { tier: "x" }));
    cluster.store.create("configmaps", cm("joiner", { tier: "y" }));
    const from = cluster.store.currentResourceVersion();
    const relabel = (name: string, tier: string): void => {
      const o = structuredClone(cluster.store.get("configmaps", "default", name)!);
      o.metadata.labels = { tier };
      cluster.store.update("configmaps", o);
    };
    relabel("leaver", "y");
    relabel("joiner", "x");
    cluster.store.create("configmaps", cm("outsider", { tier: "y" }));
    cluster.store.delete("configmaps", "default", "outsider");
    const watch = await openWatch(
      cluster,
      `/api/v1/namespaces/default/configmaps?watch=1&labelSelector=tier%3Dx&resourceVersion=${from}`,
    );
    expect(await watch.next()).toMatchObject({ type: "DELETED", object: { metadata: { name: "leaver" } } });
    expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "joiner" } } });
    // Live: entering is ADDED, leaving is DELETED; the outsider was never sent.
    relabel("leaver", "x");
    expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "leaver" } } });
    relabel("joiner", "y");
    expect(await watch.next()).toMatchObject({ type: "DELETED", object: { metadata: { name: "joiner" } } });
    watch.close();
  });

  it("keeps watch history per resource: busy pods do not expire a quiet resource's history", async () => {
    const small = await startSimCluster({ nodes: 1, historyLimit: 5 });
    try {
      const from = small.store.currentResourceVersion();
      small.store.create("configmaps", cm("quiet"));
      for (let i = 0; i < 10; i++) small.store.create("secrets", { ...cm(`busy-${i}`), kind: "Secret" });
      const quiet = await openWatch(
        small,
        `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${from}`,
      );
      expect(await quiet.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "quiet" } } });
      quiet.close();
      const busy = await openWatch(
        small,
        `/api/v1/namespaces/default/secrets?watch=1&resourceVersion=${from}`,
      );
      expect(await busy.next()).toMatchObject({ type: "ERROR", object: { code: 410, reason: "Expired" } });
      busy.close();
    } finally {
      await small.stop();
    }
  });

  it("serves the legacy /watch/ path for one object", async () => {
    const watch = await openWatch(cluster, "/api/v1/watch/namespaces/default/configmaps/w1");
    expect(await watch.next()).toMatchObject({ type: "ADDED", object: { metadata: { name: "w1" } } });
    cluster.store.create("configmaps", cm("not-w1"));
    const w1 = structuredClone(cluster.store.get("configmaps", "default", "w1")!);
    w1.data = { a: "2" };
    cluster.store.update("configmaps", w1);
    expect(await watch.next()).toMatchObject({
      type: "MODIFIED",
      object: { metadata: { name: "w1" }, data: { a: "2" } },
    });
    watch.close();
  });

  it("dropWatches ends open streams", async () => {
    const watch = await openWatch(cluster, "/api/v1/nodes?watch=1");
    await watch.next();
    expect(cluster.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    await watch.ended;
  });
});

describe("watch-list", () => {
  it("sendInitialEvents=true sends the current state, then a BOOKMARK marking its end", async () => {
    const watch = await openWatch(
      cluster,
      "/api/v1/nodes?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    );
    expect(await watch.next()).toMatchObject({
      type: "ADDED",
      object: { kind: "Node", metadata: { name: "node-1" } },
    });
    expect(await watch.next()).toMatchObject({
      type: "BOOKMARK",
      object: { metadata: { annotations: { "k8s.io/initial-events-end": "true" } } },
    });
    watch.close();
  });
});
