import { describe, expect, it } from "vitest";
import { strictDecodingError } from "./field-validation.ts";

describe("strictDecodingError", () => {
  it.each([
    [
      "DaemonSet",
      {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "x", labels: { any: "thing" } },
        spec: { foo: 1 },
      },
      'strict decoding error: unknown field "spec.foo"',
    ],
    [
      "DaemonSet",
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: "a", image: "b", env: [{ name: "A", valu: "1" }] }],
              hostNetwork: true,
            },
          },
        },
      },
      'strict decoding error: unknown field "spec.template.spec.containers[0].env[0].valu"',
    ],
    [
      "Pod",
      { metadata: { name: "p", bogus: 1 }, spec: { containers: [], nodeName: "n" }, extra: 2 },
      'strict decoding error: unknown field "metadata.bogus", unknown field "extra"',
    ],
    ["ConfigMap", { data: { anything: "goes" } }, undefined],
    [
      "ClusterRole",
      { rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"], verb: "x" }] },
      'strict decoding error: unknown field "rules[0].verb"',
    ],
    ["NotAKind", { whatever: 1 }, undefined],
  ])("%s %j", (kind, object, expected) => {
    expect(strictDecodingError(kind, object)).toBe(expected);
  });
});
