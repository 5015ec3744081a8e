import { describe, expect, it } from "vitest";
import { applyJsonPatch } from "./json-patch.ts";
import { jsonMergePatch } from "./merge-patch.ts";
import { PatchError } from "./strategic-merge.ts";

describe("applyJsonPatch", () => {
  it("applies RFC 6902 operations without mutating the input", () => {
    const doc = { spec: { a: [1, 2] } };
    expect(
      applyJsonPatch(doc, [
        { op: "add", path: "/spec/a/-", value: 3 },
        { op: "add", path: "/spec/b", value: "x" },
      ]),
    ).toEqual({
      spec: { a: [1, 2, 3], b: "x" },
    });
    expect(doc).toEqual({ spec: { a: [1, 2] } });
  });
  it.each([
    ["not a list", { op: "add" }],
    ["failing test", [{ op: "test", path: "/a", value: 2 }]],
    ["unknown op", [{ op: "frobnicate", path: "/a" }]],
  ])("rejects %s", (_name, ops) => {
    expect(() => applyJsonPatch({ a: 1 }, ops)).toThrow(PatchError);
  });
});

describe("jsonMergePatch (RFC 7386)", () => {
  it.each([
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [["a"], { a: "b" }, { a: "b" }],
  ])("%j + %j = %j", (target, patch, expected) => {
    expect(jsonMergePatch(target, patch)).toEqual(expected);
  });
});
