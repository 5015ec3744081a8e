import { describe, expect, it } from "vitest";
import { KIND_SCHEMAS } from "./schema.ts";
import { parseApplyBody, serverSideApply } from "./server-side-apply.ts";
import type { JsonObject } from "./strategic-merge.ts";

describe("server-side apply", () => {
  it("parses JSON first and YAML otherwise", () => {
    expect(parseApplyBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseApplyBody("a: 1\nb: [x]\n")).toEqual({ a: 1, b: ["x"] });
    expect(() => parseApplyBody("- just\n- a list\n")).toThrow();
  });

  it("merges the applied configuration using list merge keys", () => {
    const live = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "s",
                image: "s:1",
                env: [
                  { name: "A", value: "1" },
                  { name: "B", value: "2" },
                ],
              },
            ],
          },
        },
      },
      status: { numberReady: 1 },
    };
    const applied = {
      spec: { template: { spec: { containers: [{ name: "s", env: [{ name: "B", value: "3" }] }] } } },
    };
    expect(serverSideApply(live, applied, KIND_SCHEMAS.DaemonSet)).toEqual({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "s",
                image: "s:1",
                env: [
                  { name: "A", value: "1" },
                  { name: "B", value: "3" },
                ],
              },
            ],
          },
        },
      },
      status: { numberReady: 1 },
    });
  });
});

describe("server-side apply by the same manager", () => {
  const container = (env: Array<{ name: string; value: string }>, extra: Record<string, unknown> = {}) => ({
    spec: {
      template: {
        metadata: { labels: { app: "s", ...(extra.labels as object) } },
        spec: { containers: [{ name: "s", image: "s:1", env }] },
      },
    },
  });

  it("removes what it applied before and no longer applies, keeping what others set", () => {
    const previous = container(
      [
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ],
      { labels: { tier: "x" } },
    );
    const live = structuredClone(previous) as ReturnType<typeof container> & { status?: unknown };
    live.spec.template.spec.containers[0]!.env.push({ name: "FROM_OTHERS", value: "3" });
    live.status = { numberReady: 1 };
    const next = container([{ name: "A", value: "1" }]);
    expect(serverSideApply(live as unknown as JsonObject, next, KIND_SCHEMAS.DaemonSet, previous)).toEqual({
      spec: {
        template: {
          metadata: { labels: { app: "s" } },
          spec: {
            containers: [
              {
                name: "s",
                image: "s:1",
                env: [
                  { name: "A", value: "1" },
                  { name: "FROM_OTHERS", value: "3" },
                ],
              },
            ],
          },
        },
      },
      status: { numberReady: 1 },
    });
  });
});
