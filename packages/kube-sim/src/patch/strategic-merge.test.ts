import { describe, expect, it } from "vitest";
import { KIND_SCHEMAS } from "./schema.ts";
import { PatchError, strategicMergePatch, type JsonObject } from "./strategic-merge.ts";

const ds = (containers: JsonObject[], extra: JsonObject = {}): JsonObject => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "sensor", namespace: "default" },
  spec: { template: { spec: { containers, ...extra } } },
});
const podSpecPatch = (spec: JsonObject): JsonObject => ({ spec: { template: { spec } } });

const cases: Array<{ name: string; original: JsonObject; patch: JsonObject; expected: JsonObject }> = [
  {
    // The case kubectl produces for `apply` after one env var changed: only the
    // changed variable is sent, the others and the container must survive.
    name: "changed env var keeps the other env vars and the container",
    original: ds([
      {
        name: "sensor",
        image: "s:1",
        env: [
          { name: "A", value: "1" },
          { name: "FOO", value: "old" },
          { name: "B", value: "2" },
        ],
      },
      { name: "sidecar", image: "c:1" },
    ]),
    patch: podSpecPatch({
      "$setElementOrder/containers": [{ name: "sensor" }, { name: "sidecar" }],
      containers: [
        {
          "$setElementOrder/env": [{ name: "A" }, { name: "FOO" }, { name: "B" }],
          env: [{ name: "FOO", value: "new" }],
          name: "sensor",
        },
      ],
    }),
    expected: ds([
      {
        name: "sensor",
        image: "s:1",
        env: [
          { name: "A", value: "1" },
          { name: "FOO", value: "new" },
          { name: "B", value: "2" },
        ],
      },
      { name: "sidecar", image: "c:1" },
    ]),
  },
  {
    name: "$patch: delete removes one list item by merge key",
    original: ds([
      {
        name: "sensor",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
    ]),
    patch: podSpecPatch({ containers: [{ name: "sensor", env: [{ $patch: "delete", name: "A" }] }] }),
    expected: ds([{ name: "sensor", env: [{ name: "B", value: "2" }] }]),
  },
  {
    name: "new list item is appended and $setElementOrder puts it in place",
    original: ds([{ name: "b" }, { name: "c" }]),
    patch: podSpecPatch({
      "$setElementOrder/containers": [{ name: "a" }, { name: "b" }, { name: "c" }],
      containers: [{ name: "a", image: "a:1" }],
    }),
    expected: ds([{ name: "a", image: "a:1" }, { name: "b" }, { name: "c" }]),
  },
  {
    name: "container ports merge by containerPort",
    original: ds([{ name: "s", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }] }]),
    patch: podSpecPatch({ containers: [{ name: "s", ports: [{ containerPort: 80, protocol: "TCP" }] }] }),
    expected: ds([
      { name: "s", ports: [{ containerPort: 80, name: "http", protocol: "TCP" }, { containerPort: 443 }] },
    ]),
  },
  {
    name: "tolerations, args and command are replaced whole",
    original: ds([{ name: "s", args: ["-a", "-b"], command: ["x"] }], {
      tolerations: [{ key: "a" }, { key: "b" }],
    }),
    patch: podSpecPatch({ containers: [{ name: "s", args: ["-c"] }], tolerations: [{ key: "c" }] }),
    expected: ds([{ name: "s", args: ["-c"], command: ["x"] }], { tolerations: [{ key: "c" }] }),
  },
  {
    name: "null deletes a key",
    original: ds([{ name: "s", image: "i", imagePullPolicy: "Always" }]),
    patch: podSpecPatch({ containers: [{ name: "s", imagePullPolicy: null }] }),
    expected: ds([{ name: "s", image: "i" }]),
  },
  {
    name: "$patch: replace on a map replaces it (rollout undo of a DaemonSet)",
    original: ds([{ name: "s", image: "s:2", env: [{ name: "A", value: "1" }] }], { hostNetwork: true }),
    patch: { spec: { template: { $patch: "replace", spec: { containers: [{ name: "s", image: "s:1" }] } } } },
    expected: ds([{ name: "s", image: "s:1" }]),
  },
  {
    name: "$patch: replace as a list element replaces the list",
    original: ds([
      {
        name: "s",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
    ]),
    patch: podSpecPatch({
      containers: [{ name: "s", env: [{ $patch: "replace" }, { name: "C", value: "3" }] }],
    }),
    expected: ds([{ name: "s", env: [{ name: "C", value: "3" }] }]),
  },
  {
    name: "$retainKeys drops the keys it does not list (updateStrategy)",
    original: { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } } } },
    patch: { spec: { updateStrategy: { $retainKeys: ["type"], type: "OnDelete" } } },
    expected: { spec: { updateStrategy: { type: "OnDelete" } } },
  },
  {
    name: "$deleteFromPrimitiveList removes values from a scalar list",
    original: { metadata: { finalizers: ["a", "b", "c"] } },
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } },
    expected: { metadata: { finalizers: ["a", "c"] } },
  },
  {
    name: "finalizers merge as a set",
    original: { metadata: { finalizers: ["a"] } },
    patch: { metadata: { finalizers: ["a", "b"] } },
    expected: { metadata: { finalizers: ["a", "b"] } },
  },
  {
    name: "volumes merge by name, volumeMounts by mountPath",
    original: ds([{ name: "s", volumeMounts: [{ name: "v", mountPath: "/a" }] }], {
      volumes: [{ name: "v", emptyDir: {} }],
    }),
    patch: podSpecPatch({
      containers: [{ name: "s", volumeMounts: [{ name: "w", mountPath: "/b" }] }],
      volumes: [{ name: "w", hostPath: { path: "/x" } }],
    }),
    expected: ds(
      [
        {
          name: "s",
          volumeMounts: [
            { name: "v", mountPath: "/a" },
            { name: "w", mountPath: "/b" },
          ],
        },
      ],
      {
        volumes: [
          { name: "v", emptyDir: {} },
          { name: "w", hostPath: { path: "/x" } },
        ],
      },
    ),
  },
  {
    name: "labels merge; nested map null deletes one label",
    original: { metadata: { labels: { a: "1", b: "2" } } },
    patch: { metadata: { labels: { b: null, c: "3" } } },
    expected: { metadata: { labels: { a: "1", c: "3" } } },
  },
];

describe("strategicMergePatch", () => {
  it.each(cases)("$name", ({ original, patch, expected }) => {
    const before = structuredClone(original);
    expect(strategicMergePatch(original, patch, KIND_SCHEMAS.DaemonSet)).toEqual(expected);
    expect(original).toEqual(before);
  });

  it("merges pod conditions by type", () => {
    const pod = {
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    };
    const patched = strategicMergePatch(
      pod,
      { status: { conditions: [{ type: "Ready", status: "True" }] } },
      KIND_SCHEMAS.Pod,
    );
    expect(patched).toEqual({
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    });
  });

  it("rejects a list item without its merge key", () => {
    expect(() =>
      strategicMergePatch(
        ds([{ name: "s" }]),
        podSpecPatch({ containers: [{ image: "x" }] }),
        KIND_SCHEMAS.DaemonSet,
      ),
    ).toThrow(PatchError);
  });

  it("without a schema, lists are replaced", () => {
    expect(strategicMergePatch({ a: [1, 2] }, { a: [3] }, undefined)).toEqual({ a: [3] });
  });
});
