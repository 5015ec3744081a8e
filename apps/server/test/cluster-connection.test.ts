// Connecting a cluster over the REST API that CI uses: PUT and DELETE
// /api/v1/clusters/{id}/connection against a real simulated cluster, a real
// server and a real PostgreSQL. A refusal names the field, stores nothing and
// is audited; a connection is stored sealed and never sent back.

import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

let t: TestServer;
let sim: RunningSimCluster;
let operator: string;
let viewer: string;

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
  sim.addToken({
    token: "lists-only",
    user: "system:serviceaccount:tapfleet:lists-only",
    allow: [{ verbs: ["list"], resources: ["nodes", "pods", "daemonsets.apps"] }],
  });
  operator = (await t.userWithToken("operator")).token;
  viewer = (await t.userWithToken("viewer")).token;
  const created = await rest("POST", "/clusters", { id: "prod" }, operator);
  expect(created.status).toBe(200);
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

const rest = (method: string, path: string, body: unknown, token: string) =>
  callRest(t.url, { method, path, body, token });

const withExec = (): string => {
  const doc = parse(sim.kubeconfig()) as { users: Array<{ user: unknown }> };
  doc.users[0]!.user = {
    exec: { command: "gke-gcloud-auth-plugin", apiVersion: "client.authentication.k8s.io/v1" },
  };
  return stringify(doc);
};

describe("PUT /api/v1/clusters/{id}/connection", () => {
  const refusals: Array<{
    name: string;
    body: () => Record<string, unknown>;
    field: string;
    message: RegExp;
  }> = [
    {
      name: "a malformed kubeconfig",
      body: () => ({ kubeconfig: "clusters: [\n  - {name: a", context: "kube-sim" }),
      field: "kubeconfig",
      message: /^kubeconfig: is not valid YAML/,
    },
    {
      name: "an exec plugin",
      body: () => ({ kubeconfig: withExec(), context: "kube-sim" }),
      field: "kubeconfig",
      message: /^kubeconfig: users\[0\]\.user\.exec: exec plugins are not supported.*ServiceAccount token/,
    },
    {
      name: "an unknown context",
      body: () => ({ kubeconfig: sim.kubeconfig(), context: "staging" }),
      field: "context",
      message: /^context: no context "staging" in the kubeconfig/,
    },
    {
      name: "an invalid token",
      body: () => ({ kubeconfig: sim.kubeconfig({ token: "wrong" }), context: "kube-sim" }),
      field: "kubeconfig",
      message: /^kubeconfig: the token was refused \(invalid or expired\)/,
    },
    {
      name: "missing permissions",
      body: () => ({ kubeconfig: sim.kubeconfig({ token: "lists-only" }) }),
      field: "kubeconfig",
      message: /^kubeconfig: the kubeconfig's user may not watch nodes \(cluster-wide\), may not watch pods/,
    },
    {
      name: "no kubeconfig",
      body: () => ({ context: "kube-sim" }),
      field: "kubeconfig",
      message: /^kubeconfig: is required/,
    },
  ];

  it.each(refusals)(
    "refuses $name at the field, saves nothing and audits it",
    async ({ body, field, message }) => {
      const before = await t.db.auditEvent.count({ where: { action: "clusters.saveConnection" } });
      const answer = await rest("PUT", "/clusters/prod/connection", body(), operator);
      expect(answer.status).toBe(400);
      const error = answer.json.error as {
        code: string;
        message: string;
        fieldErrors: Record<string, string[]>;
      };
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.message).toMatch(message);
      expect(Object.keys(error.fieldErrors)).toEqual([field]);
      expect(answer.text).not.toContain(sim.token);
      expect(await t.db.clusterConnection.count()).toBe(0);

      const events = await t.db.auditEvent.findMany({
        where: { action: "clusters.saveConnection" },
        orderBy: { id: "desc" },
      });
      expect(events.length).toBe(before + 1);
      expect(events[0]).toMatchObject({ outcome: "failure", target: "prod" });
      expect(events[0]!.message).toMatch(message);
      expect(JSON.stringify(events[0]!.detail)).not.toContain(sim.token);
    },
  );

  it("is refused to a viewer and for an unknown cluster", async () => {
    const asViewer = await rest("PUT", "/clusters/prod/connection", { kubeconfig: sim.kubeconfig() }, viewer);
    expect(asViewer.status).toBe(403);
    const unknown = await rest(
      "PUT",
      "/clusters/nowhere/connection",
      { kubeconfig: sim.kubeconfig() },
      operator,
    );
    expect(unknown.status).toBe(404);
    expect(await t.db.clusterConnection.count()).toBe(0);
  });

  it("stores a tested connection sealed, shows its status, and never returns the credentials", async () => {
    const kubeconfig = sim.kubeconfig();
    const saved = await rest(
      "PUT",
      "/clusters/prod/connection",
      { kubeconfig, context: "kube-sim" },
      operator,
    );
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({
      context: "kube-sim",
      server: sim.url,
      authKind: "token",
      insecure: false,
      enabled: true,
      state: "reachable",
      nodeCount: 2,
      lastError: null,
    });
    expect(saved.json.serverVersion).toMatch(/^v1\./);
    expect(saved.text).not.toContain(sim.token);

    const row = await t.db.clusterConnection.findUniqueOrThrow({ where: { clusterId: "prod" } });
    expect(row.kubeconfigCiphertext).toMatch(/^v1\./);
    expect(row.kubeconfigCiphertext).not.toContain(sim.token);
    expect(row.kubeconfigCiphertext).not.toContain("server");
    expect(Buffer.from(row.kubeconfigCiphertext.split(".")[3]!, "base64url").toString("utf8")).not.toContain(
      sim.token,
    );

    for (const path of ["/clusters", "/clusters/prod"]) {
      const read = await rest("GET", path, undefined, viewer);
      expect(read.status).toBe(200);
      expect(read.text).not.toContain(sim.token);
      expect(read.text).not.toContain("kubeconfigCiphertext");
      const cluster = (path === "/clusters" ? (read.json.items as unknown[])[0] : read.json) as {
        connection: Record<string, unknown>;
      };
      expect(cluster.connection).toMatchObject({ state: "reachable", nodeCount: 2, server: sim.url });
    }

    const audited = await t.db.auditEvent.findFirstOrThrow({
      where: { action: "clusters.saveConnection", outcome: "success" },
    });
    expect(JSON.stringify(audited.detail)).not.toContain(sim.token);
    expect(audited.detail).toMatchObject({ id: "prod", kubeconfig: "[redacted]" });
  });

  it("disables, enables and removes the connection", async () => {
    const disabled = await rest("PATCH", "/clusters/prod/connection", { enabled: false }, operator);
    expect(disabled.status).toBe(200);
    expect(disabled.json).toMatchObject({ enabled: false, state: "disabled" });
    const enabled = await rest("PATCH", "/clusters/prod/connection", { enabled: true }, operator);
    expect(enabled.json).toMatchObject({ enabled: true, state: "reachable" });

    const refused = await rest("DELETE", "/clusters/prod/connection", undefined, viewer);
    expect(refused.status).toBe(403);
    expect(await t.db.clusterConnection.count()).toBe(1);

    const removed = await rest("DELETE", "/clusters/prod/connection", undefined, operator);
    expect(removed.status).toBe(200);
    expect(await t.db.clusterConnection.count()).toBe(0);
    expect(await t.db.ingestKey.count({ where: { clusterId: "prod" } })).toBe(1);
    const again = await rest("DELETE", "/clusters/prod/connection", undefined, operator);
    expect(again.status).toBe(404);
    const read = await rest("GET", "/clusters/prod", undefined, viewer);
    expect(read.json.connection).toBeNull();
  });

  it("records a failed re-test as unreachable with the error and since when", async () => {
    const other = await startSimCluster({ nodes: 1, kubelet: "fake" });
    expect(
      (await rest("PUT", "/clusters/prod/connection", { kubeconfig: other.kubeconfig() }, operator)).status,
    ).toBe(200);
    const stoppedAt = Date.now();
    await other.stop();
    const tested = await rest("POST", "/clusters/prod/connection/test", {}, operator);
    expect(tested.status).toBe(200);
    expect(tested.json).toMatchObject({ state: "unreachable", nodeCount: 1 });
    expect(tested.json.lastError).toMatch(/^unreachable: connection refused at https:\/\/127\.0\.0\.1:\d+$/);
    // Unreachable since the simulator stopped: noticed by this re-test, or a moment earlier by
    // the leader's watch of the cluster (which starts as soon as the connection is saved).
    const since = Date.parse(tested.json.since as string);
    expect(since).toBeGreaterThanOrEqual(stoppedAt - 1000);
    expect(since).toBeLessThanOrEqual(Date.parse(tested.json.lastErrorAt as string));
  });

  it("is in the OpenAPI document", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(document.paths["/clusters/{id}/connection"] ?? {}).sort()).toEqual([
      "delete",
      "patch",
      "put",
    ]);
    expect(document.paths["/clusters/{id}"]?.get).toBeDefined();
  });
});
