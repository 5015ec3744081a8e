import { describe, expect, it } from "vitest";
import { KIND_SCHEMAS } from "./schema.ts";
import { parseApplyBody, serverSideApply } from "./server-side-apply.ts";

describe("server-side apply", () => {
  it("parses JSON first and YAML otherwise", () => {
    expect(parseApplyBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseApplyBody("a: 1\nb: [x]\n")).toEqual({ a: 1, b: ["x"] });
    expect(() => parseApplyBody("- just\n- a list\n")).toThrow();
  });

  it("merges the applied configuration using list merge keys", () => {
    const live = {
      spec: { template: { spec: { containers: [{ name: "s", image: "s:1", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] }] } } },
      status: { numberReady: 1 },
    };
    const applied = { spec: { template: { spec: { containers: [{ name: "s", env: [{ name: "B", value: "3" }] }] } } } };
    expect(serverSideApply(live, applied, KIND_SCHEMAS.DaemonSet)).toEqual({
      spec: { template: { spec: { containers: [{ name: "s", image: "s:1", env: [{ name: "A", value: "1" }, { name: "B", value: "3" }] }] } } },
      status: { numberReady: 1 },
    });
  });
});
