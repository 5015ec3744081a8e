// @kubernetes/client-node typed and generic APIs against the simulator: the
// patch flavours it sends by default, pagination, and delete answers.

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { daemonSetFixture } from "../src/testing/fixtures.ts";
import { call, untilStore } from "./helpers.ts";

let cluster: RunningSimCluster;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let objects: k8s.KubernetesObjectApi;

const daemonSet = (): k8s.V1DaemonSet =>
  daemonSetFixture({
    env: [
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ],
  }) as k8s.V1DaemonSet;

beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 2 });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig());
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
});
afterAll(async () => {
  await cluster.stop();
});

describe("client-node", () => {
  it("creates a DaemonSet and sees the controller's pods", async () => {
    const created = await apps.createNamespacedDaemonSet({ namespace: "default", body: daemonSet() });
    expect(created.metadata?.generation).toBe(1);
    await untilStore(
      cluster,
      () =>
        cluster.store.list("pods", { namespace: "default", labelSelector: "app=agent" }).items.length === 2,
    );
    const pods = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=agent" });
    expect(pods.items.map((p) => p.spec?.nodeName).sort()).toEqual(["node-1", "node-2"]);
  });

  it("typed patch sends a JSON patch (RFC 6902)", async () => {
    const patched = await apps.patchNamespacedDaemonSet({
      name: "agent",
      namespace: "default",
      body: [{ op: "replace", path: "/spec/template/spec/containers/0/env/1/value", value: "3" }],
    });
    expect(patched.spec?.template.spec?.containers[0]?.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "3" },
    ]);
    expect(patched.metadata?.generation).toBe(2);
  });

  it("KubernetesObjectApi.patch sends a strategic merge patch that keeps the other env vars", async () => {
    const patched = await objects.patch({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: { template: { spec: { containers: [{ name: "agent", env: [{ name: "C", value: "4" }] }] } } },
    } as k8s.V1DaemonSet);
    expect(patched.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).toEqual(["A", "B", "C"]);
  });

  it("lists page by page with limit and continue", async () => {
    for (let i = 0; i < 5; i++)
      await core.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name: `page-${i}` } },
      });
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: "default", limit: 2, _continue: token });
      names.push(...page.items.map((c) => c.metadata!.name!));
      token = page.metadata?._continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
  });

  it("pages through a consistent snapshot, and an expired continue token is a 410", async () => {
    const first = await core.listNamespacedConfigMap({ namespace: "default", limit: 2 });
    expect(first.metadata?.remainingItemCount).toBe(3);
    // Changes after the first page do not show up in later pages of the same list.
    await core.deleteNamespacedConfigMap({ name: "page-3", namespace: "default" });
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "page-5" } } });
    const rest: string[] = [];
    let token = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedConfigMap({ namespace: "default", limit: 2, _continue: token });
      expect(page.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      rest.push(...page.items.map((c) => c.metadata!.name!));
      token = page.metadata?._continue;
    }
    expect(rest).toEqual(["page-2", "page-3", "page-4"]);

    const again = await core.listNamespacedConfigMap({ namespace: "default", limit: 2 });
    cluster.faults.expireHistory();
    const expired = await call(
      cluster,
      "GET",
      `/api/v1/namespaces/default/configmaps?limit=2&continue=${again.metadata!._continue!}`,
    );
    expect(expired.status).toBe(410);
    expect(expired.json).toMatchObject({ reason: "Expired", code: 410 });
    expect(expired.json.message).toMatch(
      /^The provided continue parameter is too old to display a consistent list result/,
    );
  });

  it("deletes with a propagation policy and the dependents go away", async () => {
    const status = await apps.deleteNamespacedDaemonSet({
      name: "agent",
      namespace: "default",
      body: { propagationPolicy: "Background" },
    });
    expect(status).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "agent", group: "apps", kind: "daemonsets" },
    });
    await untilStore(
      cluster,
      () =>
        cluster.store.list("pods", { namespace: "default", labelSelector: "app=agent" }).items.length === 0,
    );
  });
});

describe("faults", () => {
  it("answers 429 with Retry-After for N requests, then recovers", async () => {
    cluster.faults.fail({ code: 429, count: 2, retryAfterSeconds: 3, verbs: ["list"] });
    for (let i = 0; i < 2; i++) {
      const res = await call(cluster, "GET", "/api/v1/namespaces/default/configmaps");
      expect(res.status).toBe(429);
      expect(res.headers["retry-after"]).toBe("3");
      expect(res.json).toMatchObject({
        reason: "TooManyRequests",
        code: 429,
        details: { retryAfterSeconds: 3 },
      });
    }
    expect((await call(cluster, "GET", "/api/v1/namespaces/default/configmaps")).status).toBe(200);
    // Other verbs were never affected.
    expect((await call(cluster, "GET", "/api/v1/namespaces/default/configmaps/page-0")).status).toBe(200);
  });

  it("answers 500 InternalError for a duration", async () => {
    cluster.faults.fail({ code: 500, durationMs: 60_000, resource: "nodes" });
    const res = await call(cluster, "GET", "/api/v1/nodes");
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({
      reason: "InternalError",
      message: "Internal error occurred: injected fault",
    });
    expect((await call(cluster, "GET", "/api/v1/namespaces")).status).toBe(200);
    cluster.faults.clear();
    expect((await call(cluster, "GET", "/api/v1/nodes")).status).toBe(200);
  });

  it("adds latency", async () => {
    cluster.faults.setLatency({ ms: 300, verbs: ["get"] });
    const started = performance.now();
    await call(cluster, "GET", "/api/v1/nodes/node-1");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    cluster.faults.setLatency({ ms: 0 });
  });
});
