// Bad input must be answered the way a real API server answers it: the exact
// HTTP code, Status reason and message that clients branch on.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { daemonSetFixture } from "../src/testing/fixtures.ts";
import { call } from "./helpers.ts";

let cluster: RunningSimCluster;
beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 1 });
});
afterAll(async () => {
  await cluster.stop();
});

const DS_PATH = "/apis/apps/v1/namespaces/default/daemonsets";
const ds = (name: string, spec: Record<string, unknown> = {}): object =>
  daemonSetFixture({ name, containerName: "c", image: "busybox:1", spec });

describe("authentication", () => {
  it("answers 401 Unauthorized without a token or with a wrong one", async () => {
    for (const token of [null, "wrong"]) {
      const res = await call(cluster, "GET", "/api/v1/nodes", { token });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
  });
  it("wants the token on /version and /healthz too (kubectl and its dispatcher send it)", async () => {
    expect((await call(cluster, "GET", "/version", { token: null })).status).toBe(401);
    expect((await call(cluster, "GET", "/version")).json).toMatchObject({
      major: "1",
      minor: "32",
      gitVersion: "v1.32.4",
    });
    expect((await call(cluster, "GET", "/healthz")).text).toBe("ok");
  });
});

describe("bad requests", () => {
  it("malformed JSON → 400 BadRequest", async () => {
    const res = await call(cluster, "POST", DS_PATH, { body: "{not json" });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
    expect(res.json.message).toMatch(
      /^the object provided is unrecognized \(must be of type DaemonSet\): couldn't get version\/kind; json parse error: /,
    );
  });

  it("malformed YAML → 400 BadRequest", async () => {
    const res = await call(cluster, "POST", DS_PATH, {
      body: "a: [unclosed",
      contentType: "application/yaml",
    });
    expect(res.status).toBe(400);
    expect(res.json.reason).toBe("BadRequest");
  });

  it("unknown field with fieldValidation=Strict → 400 strict decoding error", async () => {
    const res = await call(cluster, "POST", `${DS_PATH}?fieldValidation=Strict`, {
      body: ds("strict", { foo: 1 }),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      reason: "BadRequest",
      code: 400,
      message: 'strict decoding error: unknown field "spec.foo"',
    });
  });

  it("unknown field with the default (Warn) → created without it, with a Warning header", async () => {
    const res = await call(cluster, "POST", DS_PATH, { body: ds("warned", { foo: 1 }) });
    expect(res.status).toBe(201);
    expect(res.json.spec.foo).toBeUndefined();
    expect(res.headers.warning).toContain('unknown field \\"spec.foo\\"');
  });

  it("unknown field in a strategic merge patch with Strict → 400", async () => {
    await call(cluster, "POST", DS_PATH, { body: ds("patched") });
    const res = await call(cluster, "PATCH", `${DS_PATH}/patched?fieldValidation=Strict`, {
      body: { spec: { template: { spec: { containers: [{ name: "c", bogus: true }] } } } },
      contentType: "application/strategic-merge-patch+json",
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe(
      'strict decoding error: unknown field "spec.template.spec.containers[0].bogus"',
    );
  });

  it("invalid name → 422 Invalid with a cause", async () => {
    const res = await call(cluster, "POST", DS_PATH, { body: ds("Bad_Name") });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      reason: "Invalid",
      code: 422,
      details: { name: "Bad_Name", kind: "DaemonSet", group: "apps" },
    });
    expect(res.json.details.causes[0]).toMatchObject({ reason: "FieldValueInvalid", field: "metadata.name" });
  });

  it("unknown resource → 404 with the generic message", async () => {
    const res = await call(cluster, "GET", "/api/v1/namespaces/default/widgets");
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({
      reason: "NotFound",
      code: 404,
      message: "the server could not find the requested resource",
    });
  });

  it("missing object → 404 NotFound naming it", async () => {
    const res = await call(cluster, "GET", `${DS_PATH}/nope`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({
      reason: "NotFound",
      message: 'daemonsets.apps "nope" not found',
      details: { name: "nope", group: "apps", kind: "daemonsets" },
    });
  });

  it("unsupported field selector → 400", async () => {
    const res = await call(cluster, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx");
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      reason: "BadRequest",
      message: "field label not supported: spec.bogus",
    });
    const watch = await call(cluster, "GET", "/api/v1/pods?watch=1&fieldSelector=spec.bogus%3Dx");
    expect(watch.status).toBe(400);
  });

  it("wrong method → 405 MethodNotAllowed", async () => {
    const res = await call(cluster, "POST", `${DS_PATH}/patched`, { body: ds("patched") });
    expect(res.status).toBe(405);
    expect(res.json).toMatchObject({ reason: "MethodNotAllowed", code: 405 });
    expect((await call(cluster, "PUT", "/api/v1/nodes", { body: {} })).status).toBe(405);
    expect((await call(cluster, "POST", "/apis/apps/v1/daemonsets", { body: ds("nowhere") })).status).toBe(
      405,
    );
  });

  it("already exists → 409 AlreadyExists", async () => {
    const res = await call(cluster, "POST", DS_PATH, { body: ds("patched") });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({
      reason: "AlreadyExists",
      message: 'daemonsets.apps "patched" already exists',
    });
  });

  it("stale resourceVersion on PUT → 409 Conflict", async () => {
    const current = (await call(cluster, "GET", `${DS_PATH}/patched`)).json;
    await call(cluster, "PATCH", `${DS_PATH}/patched`, {
      body: { metadata: { labels: { touched: "yes" } } },
      contentType: "application/merge-patch+json",
    });
    const res = await call(cluster, "PUT", `${DS_PATH}/patched`, { body: current });
    expect(res.status).toBe(409);
    expect(res.json.message).toBe(
      'Operation cannot be fulfilled on daemonsets.apps "patched": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it("unsupported patch content type → 415", async () => {
    const res = await call(cluster, "PATCH", `${DS_PATH}/patched`, { body: {}, contentType: "text/plain" });
    expect(res.status).toBe(415);
    expect(res.json.reason).toBe("UnsupportedMediaType");
  });

  it("namespace mismatch between URL and body → 400", async () => {
    const body = { ...ds("elsewhere"), metadata: { name: "elsewhere", namespace: "kube-system" } };
    const res = await call(cluster, "POST", DS_PATH, { body });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  });

  it("dryRun=All creates, patches and deletes nothing", async () => {
    const res = await call(cluster, "POST", `${DS_PATH}?dryRun=All`, { body: ds("dry") });
    expect(res.status).toBe(201);
    expect(res.json.metadata.uid).toBeDefined();
    expect((await call(cluster, "GET", `${DS_PATH}/dry`)).status).toBe(404);

    const before = (await call(cluster, "GET", `${DS_PATH}/patched`)).json;
    const patched = await call(cluster, "PATCH", `${DS_PATH}/patched?dryRun=All`, {
      body: { spec: { minReadySeconds: 5 } },
      contentType: "application/merge-patch+json",
    });
    expect(patched.json.spec.minReadySeconds).toBe(5);
    expect(patched.json.metadata.generation).toBe(before.metadata.generation + 1);
    const deleted = await call(cluster, "DELETE", `${DS_PATH}/patched`, { body: { dryRun: ["All"] } });
    expect(deleted.status).toBe(200);
    const after = (await call(cluster, "GET", `${DS_PATH}/patched`)).json;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});
