import { describe, expect, it } from "vitest";
import { createObjectStore, RESOURCES } from "./store.ts";
import { ApiError } from "./errors.ts";
import { createManualClock } from "./manual-clock.ts";
import { daemonSetFixture } from "./testing/fixtures.ts";
import type { KubeObject, StoreEvent } from "./types.ts";

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "busybox" }] },
  };
}

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("object store: create", () => {
  it("assigns uid, creationTimestamp, generation and an increasing resourceVersion", () => {
    const clock = createManualClock(Date.UTC(2026, 4, 1, 12, 0, 0, 500));
    const store = createObjectStore({ clock });
    const before = store.currentResourceVersion();
    const a = store.create("daemonsets.apps", daemonSetFixture({ name: "a" }));
    const b = store.create("daemonsets.apps", daemonSetFixture({ name: "b" }));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.uid).not.toBe(b.metadata.uid);
    expect(a.metadata.creationTimestamp).toBe("2026-05-01T12:00:00Z");
    expect(a.metadata.generation).toBe(1);
    expect(a.metadata.resourceVersion).not.toBe(before);
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(store.currentResourceVersion()).toBe(b.metadata.resourceVersion);
  });

  it("names objects from generateName with five lowercase alphanumerics", () => {
    const store = createObjectStore();
    const p = store.create("pods", {
      ...pod(""),
      metadata: { generateName: "agent-", namespace: "default" },
    });
    expect(p.metadata.name).toMatch(/^agent-[a-z0-9]{5}$/);
    expect(p.metadata.generateName).toBe("agent-");
  });

  it("does not give pods a generation (1.32 pods have none) and starts them Pending", () => {
    const store = createObjectStore();
    const p = store.create("pods", pod("p"));
    expect(p.metadata.generation).toBeUndefined();
    expect(p.status).toEqual({ phase: "Pending", qosClass: "BestEffort" });
    expect(p.spec?.restartPolicy).toBe("Always");
  });

  it("rejects a duplicate with 409 AlreadyExists", () => {
    const store = createObjectStore();
    store.create("daemonsets.apps", daemonSetFixture({ name: "a" }));
    const err = caught(() => store.create("daemonsets.apps", daemonSetFixture({ name: "a" })));
    expect(err.status).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'daemonsets.apps "a" already exists',
      reason: "AlreadyExists",
      details: { name: "a", group: "apps", kind: "daemonsets" },
      code: 409,
    });
  });

  it.each([
    ["pods", "Bad_Name", "subdomain"],
    ["namespaces", "a.b", "label"],
    ["clusterroles.rbac.authorization.k8s.io", "a/b", "may not contain '/'"],
  ])("rejects an invalid %s name %s with 422 Invalid and causes", (resource, name, expectText) => {
    const store = createObjectStore();
    const object: KubeObject =
      resource === "pods" ? pod(name) : { apiVersion: "v1", kind: "X", metadata: { name } };
    const err = caught(() => store.create(resource, object));
    expect(err.status.code).toBe(422);
    expect(err.status.reason).toBe("Invalid");
    expect(err.status.message).toContain(`"${name}" is invalid: metadata.name: Invalid value: "${name}"`);
    expect(err.status.message).toContain(expectText);
    expect(err.status.details?.causes?.[0]).toMatchObject({
      reason: "FieldValueInvalid",
      field: "metadata.name",
    });
  });

  it("accepts RBAC names with colons, as system roles use", () => {
    const store = createObjectStore();
    const role = store.create("clusterroles.rbac.authorization.k8s.io", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:tapfleet:agent" },
    });
    expect(role.metadata.name).toBe("system:tapfleet:agent");
  });

  it("requires the namespace to exist", () => {
    const store = createObjectStore();
    const err = caught(() =>
      store.create("pods", { ...pod("p"), metadata: { name: "p", namespace: "nope" } }),
    );
    expect(err.status.message).toBe('namespaces "nope" not found');
    expect(err.status.code).toBe(404);
  });

  it("rejects a DaemonSet whose selector does not match its template", () => {
    const store = createObjectStore();
    const ds = daemonSetFixture({ name: "a" });
    (ds.spec!.selector as { matchLabels: Record<string, string> }).matchLabels = { app: "other" };
    const err = caught(() => store.create("daemonsets.apps", ds));
    expect(err.status.details?.causes?.[0]?.field).toBe("spec.template.metadata.labels");
  });

  it("clones its input and freezes what it returns", () => {
    const store = createObjectStore();
    const input = pod("p", { a: "1" });
    const created = store.create("pods", input);
    input.metadata.labels!.a = "2";
    expect(store.get("pods", "default", "p")?.metadata.labels?.a).toBe("1");
    expect(Object.isFrozen(created.metadata)).toBe(true);
  });
});

describe("object store: update", () => {
  it("returns 409 Conflict with the exact message on a stale resourceVersion", () => {
    const store = createObjectStore();
    const v1 = store.create("daemonsets.apps", daemonSetFixture({ name: "x" }));
    store.update("daemonsets.apps", {
      ...structuredClone(v1),
      metadata: { ...v1.metadata, labels: { a: "b" } },
    });
    const err = caught(() =>
      store.update("daemonsets.apps", {
        ...structuredClone(v1),
        metadata: { ...v1.metadata, labels: { c: "d" } },
      }),
    );
    expect(err.status.code).toBe(409);
    expect(err.status.reason).toBe("Conflict");
    expect(err.status.message).toBe(
      'Operation cannot be fulfilled on daemonsets.apps "x": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it("returns 404 NotFound for a missing object", () => {
    const store = createObjectStore();
    const err = caught(() => store.update("daemonsets.apps", daemonSetFixture({ name: "x" })));
    expect(err.status.message).toBe('daemonsets.apps "x" not found');
    expect(err.status.details).toEqual({ name: "x", group: "apps", kind: "daemonsets" });
  });

  it("bumps generation and the template-generation annotation only when the spec changes", () => {
    const store = createObjectStore();
    const v1 = store.create("daemonsets.apps", daemonSetFixture({ name: "x" }));
    const labelled = store.update("daemonsets.apps", {
      ...structuredClone(v1),
      metadata: { ...structuredClone(v1.metadata), labels: { a: "b" } },
    });
    expect(labelled.metadata.generation).toBe(1);
    const changed = store.update(
      "daemonsets.apps",
      daemonSetFixture({ name: "x", image: "tapfleet/agent:2" }),
    );
    expect(changed.metadata.generation).toBe(2);
    expect(changed.metadata.annotations?.["deprecated.daemonset.template.generation"]).toBe("2");
    const minReady = structuredClone(changed);
    minReady.spec!.minReadySeconds = 5;
    const v4 = store.update("daemonsets.apps", minReady);
    expect(v4.metadata.generation).toBe(3);
    expect(v4.metadata.annotations?.["deprecated.daemonset.template.generation"]).toBe("2");
  });

  it("does not bump generation for a replace with an undefaulted but equal spec", () => {
    const store = createObjectStore();
    store.create("daemonsets.apps", daemonSetFixture({ name: "x" }));
    const same = store.update("daemonsets.apps", daemonSetFixture({ name: "x" }));
    expect(same.metadata.generation).toBe(1);
  });

  it("keeps status on main writes and spec/metadata on status writes", () => {
    const store = createObjectStore();
    const v1 = store.create("daemonsets.apps", daemonSetFixture({ name: "x" }));
    const withStatus = store.update(
      "daemonsets.apps",
      {
        ...daemonSetFixture({ name: "x", image: "ignored:9" }),
        metadata: { name: "x", namespace: "default", labels: { ignored: "yes" } },
        status: { numberReady: 3 },
      },
      { subresource: "status" },
    );
    expect(withStatus.status).toEqual({ numberReady: 3 });
    expect(withStatus.metadata.labels).toBeUndefined();
    expect(withStatus.spec).toEqual(v1.spec);
    expect(withStatus.metadata.generation).toBe(1);

    const main = store.update("daemonsets.apps", {
      ...daemonSetFixture({ name: "x", image: "img:2" }),
      status: { numberReady: 99 },
    });
    expect(main.status).toEqual({ numberReady: 3 });
    expect(main.metadata.generation).toBe(2);
  });

  it("treats a write that changes nothing as no write: same resourceVersion, no event", () => {
    const store = createObjectStore();
    const v1 = store.create("pods", pod("p"));
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const again = store.update("pods", structuredClone(v1), { subresource: "status" });
    expect(again.metadata.resourceVersion).toBe(v1.metadata.resourceVersion);
    expect(events).toHaveLength(0);
  });

  it("rejects a changed DaemonSet selector as immutable", () => {
    const store = createObjectStore();
    store.create("daemonsets.apps", daemonSetFixture({ name: "x" }));
    const changed = daemonSetFixture({ name: "x" });
    changed.spec!.selector = { matchLabels: { app: "x", tier: "t" } };
    (changed.spec!.template as { metadata: { labels: Record<string, string> } }).metadata.labels.tier = "t";
    const err = caught(() => store.update("daemonsets.apps", changed));
    expect(err.status.message).toContain("spec.selector: Invalid value");
    expect(err.status.message).toContain("field is immutable");
  });
});

describe("object store: selectors", () => {
  function seeded() {
    const store = createObjectStore();
    store.create("pods", pod("a", { app: "agent", tier: "edge" }, "node-1"));
    store.create("pods", pod("b", { app: "agent", tier: "core" }, "node-2"));
    store.create("pods", pod("c", { app: "web" }, "node-1"));
    store.create("pods", pod("d", {}));
    return store;
  }
  const names = (items: KubeObject[]) => items.map((o) => o.metadata.name);

  it.each([
    ["app=agent", ["a", "b"]],
    ["app==agent", ["a", "b"]],
    ["app!=agent", ["c", "d"]],
    ["tier in (edge, core)", ["a", "b"]],
    ["tier notin (edge)", ["b", "c", "d"]],
    ["tier", ["a", "b"]],
    ["!tier", ["c", "d"]],
    ["app=agent,tier!=edge", ["b"]],
    ["", ["a", "b", "c", "d"]],
  ])("label selector %j", (selector, expected) => {
    expect(names(seeded().list("pods", { labelSelector: selector }).items)).toEqual(expected);
  });

  it.each([
    ["spec.nodeName=node-1", ["a", "c"]],
    ["spec.nodeName==node-2", ["b"]],
    ["spec.nodeName=", ["d"]],
    ["spec.nodeName!=node-1", ["b", "d"]],
    ["metadata.name=c", ["c"]],
    ["status.phase=Pending", ["a", "b", "c", "d"]],
    ["status.phase=Running", []],
    ["metadata.namespace=default,spec.nodeName=node-1", ["a", "c"]],
  ])("field selector %j", (selector, expected) => {
    expect(names(seeded().list("pods", { fieldSelector: selector }).items)).toEqual(expected);
  });

  it.each([
    ["pods", "spec.foo=1", "field label not supported: spec.foo"],
    [
      "daemonsets.apps",
      "spec.foo=1",
      '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
  ])("an unsupported field selector on %s is 400 BadRequest", (resource, selector, message) => {
    const err = caught(() => seeded().list(resource, { fieldSelector: selector }));
    expect(err.status).toMatchObject({ code: 400, reason: "BadRequest", message });
  });

  it("an unparseable label selector is 400", () => {
    expect(caught(() => seeded().list("pods", { labelSelector: "a in" })).status.code).toBe(400);
  });

  it("lists cluster-scoped and namespaced resources with the right scope", () => {
    const store = seeded();
    store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } });
    store.create("pods", { ...pod("z"), metadata: { name: "z", namespace: "other" } });
    expect(names(store.list("pods", { namespace: "other" }).items)).toEqual(["z"]);
    expect(store.list("pods").items).toHaveLength(5);
    const ns = store.get("namespaces", "ignored", "other");
    expect(ns?.metadata.namespace).toBeUndefined();
    expect(ns?.status).toEqual({ phase: "Active" });
  });

  it("exposes a resource table with scope and short names for discovery", () => {
    const ds = RESOURCES.find((r) => r.plural === "daemonsets");
    expect(ds).toMatchObject({
      group: "apps",
      version: "v1",
      kind: "DaemonSet",
      namespaced: true,
      shortNames: ["ds"],
    });
    expect(RESOURCES.find((r) => r.plural === "nodes")?.namespaced).toBe(false);
    expect(RESOURCES.map((r) => r.plural)).toEqual(
      expect.arrayContaining([
        "namespaces",
        "nodes",
        "pods",
        "events",
        "serviceaccounts",
        "secrets",
        "configmaps",
        "controllerrevisions",
        "clusterroles",
        "clusterrolebindings",
        "roles",
        "rolebindings",
        "networkpolicies",
      ]),
    );
  });
});

describe("object store: events and history", () => {
  it("emits one event per write and replays strictly after a version", () => {
    const store = createObjectStore();
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const start = store.currentResourceVersion();
    const p = store.create("pods", pod("p"));
    store.update("pods", { ...structuredClone(p), status: { phase: "Running" } }, { subresource: "status" });
    store.delete("pods", "default", "p");
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(events[2]!.object.metadata.resourceVersion).toBe(store.currentResourceVersion());
    expect(store.eventsSince(start).map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(store.eventsSince(events[0]!.object.metadata.resourceVersion!).map((e) => e.type)).toEqual([
      "MODIFIED",
      "DELETED",
    ]);
    expect(store.eventsSince(start, "daemonsets.apps")).toEqual([]);
  });

  it("answers 410 Expired for versions older than the retained history", () => {
    const store = createObjectStore({ historyLimit: 3, namespaces: ["default"] });
    const start = store.currentResourceVersion();
    for (const n of ["a", "b", "c", "d"]) store.create("pods", pod(n));
    const err = caught(() => store.eventsSince(start));
    expect(err.status.code).toBe(410);
    expect(err.status.reason).toBe("Expired");
    expect(err.status.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    const current = Number(store.currentResourceVersion());
    expect(store.eventsSince(String(current - 3))).toHaveLength(3);
  });

  it("expireHistory makes every older version Expired but keeps the current one usable", () => {
    const store = createObjectStore();
    store.create("pods", pod("a"));
    const before = store.currentResourceVersion();
    store.create("pods", pod("b"));
    store.expireHistory();
    expect(caught(() => store.eventsSince(before)).status.code).toBe(410);
    expect(store.eventsSince(store.currentResourceVersion())).toEqual([]);
    store.create("pods", pod("c"));
    expect(store.eventsSince(String(Number(store.currentResourceVersion()) - 1))).toHaveLength(1);
  });
});

describe("object store: delete and garbage collection", () => {
  it("deletes dependents of a deleted owner, recursively", () => {
    const store = createObjectStore();
    const ds = store.create("daemonsets.apps", daemonSetFixture({ name: "agent" }));
    const owner = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      name: "agent",
      uid: ds.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    const p = store.create("pods", {
      ...pod("agent-1"),
      metadata: { name: "agent-1", namespace: "default", ownerReferences: [owner] },
    });
    store.create("controllerrevisions.apps", {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "agent-abc", namespace: "default", ownerReferences: [owner] },
      revision: 1,
      data: {},
    });
    store.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "owned-by-pod",
        namespace: "default",
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "agent-1", uid: p.metadata.uid! }],
      },
    });
    store.create("pods", pod("unrelated"));
    store.delete("daemonsets.apps", "default", "agent");
    expect(store.get("pods", "default", "agent-1")).toBeUndefined();
    expect(store.list("controllerrevisions.apps").items).toEqual([]);
    expect(store.get("configmaps", "default", "owned-by-pod")).toBeUndefined();
    expect(store.get("pods", "default", "unrelated")).toBeDefined();
  });

  it("orphans dependents with propagationPolicy Orphan", () => {
    const store = createObjectStore();
    const ds = store.create("daemonsets.apps", daemonSetFixture({ name: "agent" }));
    store.create("pods", {
      ...pod("agent-1"),
      metadata: {
        name: "agent-1",
        namespace: "default",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: ds.metadata.uid! }],
      },
    });
    store.delete("daemonsets.apps", "default", "agent", { propagationPolicy: "Orphan" });
    const orphan = store.get("pods", "default", "agent-1");
    expect(orphan?.metadata.ownerReferences).toBeUndefined();
  });

  it("keeps an object with finalizers until the last one is removed", () => {
    const store = createObjectStore();
    const events: StoreEvent[] = [];
    store.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "f", namespace: "default", finalizers: ["x/y"] },
    });
    store.subscribe((e) => events.push(e));
    const marked = store.delete("configmaps", "default", "f");
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(store.get("configmaps", "default", "f")).toBeDefined();
    const cleared = structuredClone(marked);
    cleared.metadata.finalizers = [];
    store.update("configmaps", cleared);
    expect(store.get("configmaps", "default", "f")).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(["MODIFIED", "DELETED"]);
  });

  it("deleting a namespace deletes its contents; system namespaces are protected", () => {
    const store = createObjectStore();
    store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tmp" } });
    store.create("pods", { ...pod("x"), metadata: { name: "x", namespace: "tmp" } });
    store.delete("namespaces", undefined, "tmp");
    expect(store.list("pods", { namespace: "tmp" }).items).toEqual([]);
    expect(caught(() => store.delete("namespaces", undefined, "default")).status.code).toBe(403);
  });

  it("indexes pods by node", () => {
    const store = createObjectStore();
    store.create("pods", pod("a", {}, "n1"));
    store.create("pods", pod("b", {}, "n2"));
    expect(store.podsOnNode("n1").map((p) => p.metadata.name)).toEqual(["a"]);
    store.delete("pods", "default", "a", { gracePeriodSeconds: 0 });
    expect(store.podsOnNode("n1")).toEqual([]);
  });

  it("deletes a bound pod gracefully: Terminating with deletionTimestamp until the final delete with grace 0", () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const store = createObjectStore({ clock });
    store.create("pods", pod("bound", {}, "n1"));
    store.create("pods", pod("unbound"));
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const terminating = store.delete("pods", "default", "bound");
    expect(terminating.metadata).toMatchObject({
      deletionTimestamp: "2026-01-01T00:00:30Z",
      deletionGracePeriodSeconds: 30,
    });
    expect(store.get("pods", "default", "bound")).toBeDefined();
    // A second delete does not restart the clock; a status write does not complete the deletion.
    expect(store.delete("pods", "default", "bound").metadata.resourceVersion).toBe(
      terminating.metadata.resourceVersion,
    );
    store.update("pods", { ...terminating, status: { phase: "Running" } }, { subresource: "status" });
    expect(store.get("pods", "default", "bound")).toBeDefined();
    store.delete("pods", "default", "bound", { gracePeriodSeconds: 0 });
    expect(store.get("pods", "default", "bound")).toBeUndefined();
    // Unbound pods have no kubelet to wait for.
    store.delete("pods", "default", "unbound");
    expect(store.get("pods", "default", "unbound")).toBeUndefined();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "MODIFIED bound",
      "MODIFIED bound",
      "DELETED bound",
      "DELETED unbound",
    ]);
  });
});

describe("object store: pod updates", () => {
  it("allows image and toleration additions but forbids other pod spec changes, as ValidatePodUpdate does", () => {
    const store = createObjectStore();
    const p = store.create("pods", pod("p"));
    const newImage = structuredClone(p);
    (newImage.spec!.containers as { image: string }[])[0]!.image = "busybox:2";
    (newImage.spec!.tolerations as unknown[]).push({ key: "x", operator: "Exists" });
    const updated = store.update("pods", newImage);
    expect((updated.spec!.containers as { image: string }[])[0]!.image).toBe("busybox:2");

    const renamed = structuredClone(updated);
    (renamed.spec!.containers as { name: string }[])[0]!.name = "other";
    const err = caught(() => store.update("pods", renamed));
    expect(err.status.code).toBe(422);
    expect(err.status.message).toMatch(
      /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/,
    );
    expect(err.status.details?.causes?.[0]).toMatchObject({ reason: "FieldValueForbidden", field: "spec" });
  });

  it("binds a pod once: nodeName and PodScheduled in one write, 409 on a second binding", () => {
    const store = createObjectStore();
    store.create("pods", pod("p"));
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const bound = store.bind("default", "p", "node-1");
    expect(bound.spec?.nodeName).toBe("node-1");
    expect(bound.status?.conditions).toEqual([
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    ]);
    expect(events).toHaveLength(1);
    expect(caught(() => store.bind("default", "p", "node-2")).status.message).toBe(
      'Operation cannot be fulfilled on pods "p": pod p is already assigned to node "node-1"',
    );
  });
});

describe("object store: list order", () => {
  it("lists in etcd key order (namespace, then name) across adds and deletes", () => {
    const store = createObjectStore();
    store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "alpha" } });
    for (const [ns, name] of [
      ["default", "b"],
      ["alpha", "z"],
      ["default", "a"],
      ["alpha", "c"],
    ] as const) {
      store.create("pods", { ...pod(name), metadata: { name, namespace: ns } });
    }
    const keys = () => store.list("pods").items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(keys()).toEqual(["alpha/c", "alpha/z", "default/a", "default/b"]);
    store.delete("pods", "alpha", "c");
    store.create("pods", { ...pod("0"), metadata: { name: "0", namespace: "default" } });
    expect(keys()).toEqual(["alpha/z", "default/0", "default/a", "default/b"]);
    expect(store.list("pods", { namespace: "default" }).items.map((p) => p.metadata.name)).toEqual([
      "0",
      "a",
      "b",
    ]);
    expect(store.list("namespaces").items.map((n) => n.metadata.name)).toEqual([
      "alpha",
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
    ]);
  });
});
