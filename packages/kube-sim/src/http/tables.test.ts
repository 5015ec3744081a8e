import { describe, expect, it } from "vitest";
import type { KubeObject } from "../types.ts";
import { humanDuration, toTable, wantsTable } from "./tables.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");

describe("humanDuration", () => {
  it.each([
    [5_000, "5s"],
    [119_000, "119s"],
    [150_000, "2m30s"],
    [600_000, "10m"],
    [3 * 3600_000 + 5 * 60_000, "3h5m"],
    [9 * 3600_000, "9h"],
    [50 * 3600_000, "2d2h"],
    [30 * 24 * 3600_000, "30d"],
    [-5_000, "<invalid>"],
  ])("%d ms → %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

const pod = (status: Record<string, unknown>, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", creationTimestamp: "2026-01-01T11:59:00Z", ...extra },
  spec: { nodeName: "node-1", containers: [{ name: "c" }] },
  status,
});

function cells(object: KubeObject): unknown[] {
  const table = toTable(object.kind, [object], { includeObject: "None", now: NOW }) as {
    rows: Array<{ cells: unknown[] }>;
  };
  return table.rows[0]!.cells;
}

describe("pod rows", () => {
  it.each([
    ["pending", pod({ phase: "Pending" }), ["p", "0/1", "Pending", "0", "60s"]],
    [
      "running and ready",
      pod({
        phase: "Running",
        podIP: "10.0.0.5",
        containerStatuses: [{ name: "c", ready: true, restartCount: 0, state: { running: {} } }],
      }),
      ["p", "1/1", "Running", "0", "60s", "10.0.0.5", "node-1", "<none>", "<none>"],
    ],
    [
      "crash looping",
      pod({
        phase: "Running",
        containerStatuses: [
          {
            name: "c",
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, finishedAt: "2026-01-01T11:59:30Z" } },
          },
        ],
      }),
      ["p", "0/1", "CrashLoopBackOff", "3 (30s ago)", "60s"],
    ],
    [
      "terminating",
      pod({ phase: "Running" }, { deletionTimestamp: "2026-01-01T12:00:00Z" }),
      ["p", "0/1", "Terminating"],
    ],
  ])("%s", (_name, object, expected) => {
    expect(cells(object).slice(0, expected.length)).toEqual(expected);
  });
});

describe("wantsTable", () => {
  it.each([
    [
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
      true,
    ],
    ["application/json", false],
    [undefined, false],
    ["application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", false],
  ])("%s → %s", (accept, expected) => {
    expect(wantsTable(accept)).toBe(expected);
  });
});
