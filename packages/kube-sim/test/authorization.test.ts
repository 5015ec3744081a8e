// Tokens with limited rights: the request path and SelfSubjectAccessReview
// answer from the same permission set, in the API server's words.

import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { call } from "./helpers.ts";

let cluster: RunningSimCluster;

beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 2 });
  cluster.addToken({
    token: "reader-token",
    user: "system:serviceaccount:tapfleet:reader",
    allow: [
      { verbs: ["list", "watch"], resources: ["nodes", "daemonsets.apps"] },
      { verbs: ["get"], resources: ["pods/log"] },
    ],
  });
  cluster.addToken({ token: "soon-expired", allow: [{ verbs: ["*"], resources: ["*"] }] });
  cluster.addToken({ token: "no-review", allow: [], selfReview: false });
});
afterAll(async () => {
  await cluster.stop();
});

const review = (token: string, attributes: Record<string, string>) =>
  call(cluster, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    token,
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: attributes },
    },
  });

describe("tokens with limited rights", () => {
  it("serves what the rules allow and refuses the rest with the RBAC message", async () => {
    expect((await call(cluster, "GET", "/api/v1/nodes", { token: "reader-token" })).status).toBe(200);
    expect(
      (
        await call(cluster, "GET", "/apis/apps/v1/daemonsets?watch=true&timeoutSeconds=1", {
          token: "reader-token",
        })
      ).status,
    ).toBe(200);

    const pods = await call(cluster, "GET", "/api/v1/pods", { token: "reader-token" });
    expect(pods.status).toBe(403);
    expect(pods.json).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      code: 403,
      message:
        'pods is forbidden: User "system:serviceaccount:tapfleet:reader" cannot list resource "pods" in API group "" at the cluster scope',
      details: { kind: "pods" },
    });
    const inNamespace = await call(cluster, "GET", "/apis/apps/v1/namespaces/default/daemonsets/x", {
      token: "reader-token",
    });
    expect(inNamespace.json.message).toBe(
      'daemonsets.apps "x" is forbidden: User "system:serviceaccount:tapfleet:reader" cannot get resource "daemonsets" in API group "apps" in the namespace "default"',
    );
    // Discovery and /version stay open to every authenticated caller, as on a real cluster.
    expect((await call(cluster, "GET", "/version", { token: "reader-token" })).status).toBe(200);
  });

  it("answers SelfSubjectAccessReviews from the same rules, through client-node", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfig({ token: "reader-token" }));
    const api = kc.makeApiClient(k8s.AuthorizationV1Api);
    const ask = async (verb: string, resource: string, group = "") =>
      (
        await api.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { verb, resource, group } } },
        })
      ).status?.allowed;
    expect(await ask("list", "nodes")).toBe(true);
    expect(await ask("watch", "daemonsets", "apps")).toBe(true);
    expect(await ask("watch", "pods")).toBe(false);
    expect(await ask("list", "daemonsets")).toBe(false); // the core group has none
    expect(await ask("delete", "nodes")).toBe(false);

    const denied = await review("no-review", { verb: "list", resource: "nodes" });
    expect(denied.status).toBe(403);
    expect(denied.json.message).toMatch(
      /^selfsubjectaccessreviews.authorization.k8s.io is forbidden: User ".*" cannot create resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope$/,
    );
    // The cluster's own token may do everything.
    const admin = await review(cluster.token, { verb: "delete", resource: "pods" });
    expect(admin.status).toBe(201);
    expect(admin.json.status.allowed).toBe(true);
  });

  it("refuses an unknown or expired token with 401", async () => {
    expect((await call(cluster, "GET", "/api/v1/nodes", { token: "soon-expired" })).status).toBe(200);
    cluster.expireToken("soon-expired");
    const expired = await call(cluster, "GET", "/api/v1/nodes", { token: "soon-expired" });
    expect(expired.status).toBe(401);
    expect(expired.json).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    expect((await call(cluster, "GET", "/version", { token: "never-issued" })).status).toBe(401);
  });
});
