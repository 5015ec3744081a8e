import { describe, expect, it } from "vitest";
import { decodeProtobufObject } from "./protobuf.ts";

/** Minimal protobuf writer for the test: fields are [number, string | Buffer | nested fields]. */
type ProtoField = [number, string | Buffer | ProtoField[]];
function encode(fields: ProtoField[]): Buffer {
  const parts: Buffer[] = [];
  const varint = (n: number): Buffer => {
    const bytes: number[] = [];
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n > 0) byte |= 0x80;
      bytes.push(byte);
    } while (n > 0);
    return Buffer.from(bytes);
  };
  for (const [number, value] of fields) {
    const data =
      typeof value === "string" ? Buffer.from(value) : Buffer.isBuffer(value) ? value : encode(value);
    parts.push(varint((number << 3) | 2), varint(data.length), data);
  }
  return Buffer.concat(parts);
}
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from("k8s\0", "binary"),
    encode([
      [
        1,
        [
          [1, apiVersion],
          [2, kind],
        ],
      ],
      [2, raw],
    ]),
  ]);

describe("decodeProtobufObject", () => {
  it("decodes a ConfigMap as kubectl create configmap sends it", () => {
    const raw = encode([
      [
        1,
        [
          [1, "settings"],
          [2, ""],
          [3, "default"],
          [
            11,
            [
              [1, "app"],
              [2, "sensor"],
            ],
          ],
        ],
      ],
      [
        2,
        [
          [1, "a"],
          [2, "b"],
        ],
      ],
      [
        2,
        [
          [1, "c"],
          [2, "d"],
        ],
      ],
    ]);
    expect(decodeProtobufObject(envelope("v1", "ConfigMap", raw))).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "default", labels: { app: "sensor" } },
      data: { a: "b", c: "d" },
    });
  });

  it("decodes Secret data as base64, like its JSON form", () => {
    const raw = encode([
      [1, [[1, "s"]]],
      [
        2,
        [
          [1, "k"],
          [2, Buffer.from([0xff, 0x00])],
        ],
      ],
      [3, "Opaque"],
    ]);
    expect(decodeProtobufObject(envelope("v1", "Secret", raw))).toMatchObject({
      data: { k: "/wA=" },
      type: "Opaque",
    });
  });

  it("decodes a ClusterRoleBinding", () => {
    const raw = encode([
      [1, [[1, "readers"]]],
      [
        2,
        [
          [1, "User"],
          [2, "rbac.authorization.k8s.io"],
          [3, "alice"],
        ],
      ],
      [
        3,
        [
          [1, "rbac.authorization.k8s.io"],
          [2, "ClusterRole"],
          [3, "view"],
        ],
      ],
    ]);
    expect(decodeProtobufObject(envelope("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", raw))).toEqual(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "readers" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      },
    );
  });

  it("answers 415 for kinds it has no table for, 400 for garbage", () => {
    expect(() => decodeProtobufObject(envelope("apps/v1", "Deployment", encode([])))).toThrow(
      expect.objectContaining({ code: 415 }),
    );
    expect(() => decodeProtobufObject(Buffer.from("{}"))).toThrow(expect.objectContaining({ code: 400 }));
  });
});
