import { describe, expect, it } from "vitest";
import type { RouterOutputs } from "@/lib/trpc";
import { summarizeNodeAgent } from "./node-agent";

type Row = RouterOutputs["kube"]["podStatus"]["daemonSets"][number];

const row = (fields: Partial<Row>): Row => ({
  daemonSet: { namespace: "tapfleet", name: "tapfleet-sensor" },
  state: "covered",
  reason: "Pod tapfleet-sensor-abcde is ready and its agent is reporting.",
  since: "2026-12-05T11:00:00.000Z",
  stale: false,
  podName: "tapfleet-sensor-abcde",
  pod: null,
  sensor: null,
  ...fields,
});
const sensor = (id: string, lastSeenAt: string) => ({ id, agentVersion: "1.0.0", lastSeenAt });

describe("summarizeNodeAgent", () => {
  it("a covered node's agent reports, and the page leads to its sensor", () => {
    const summary = summarizeNodeAgent([row({ sensor: sensor("s-1", "2026-12-05T11:03:21.602Z") })]);
    expect(summary).toMatchObject({ kind: "reporting", sensorId: "s-1" });
    expect(summary.text).not.toMatch(/No agent has reported/);
  });

  it("a covered row wins over another DaemonSet's silent agent", () => {
    const summary = summarizeNodeAgent([
      row({
        daemonSet: { namespace: "a", name: "old" },
        state: "silent",
        sensor: sensor("s-old", "2026-12-05T12:00:00.000Z"),
      }),
      row({ sensor: sensor("s-1", "2026-12-05T11:03:21.602Z") }),
    ]);
    expect(summary).toMatchObject({ kind: "reporting", sensorId: "s-1" });
  });

  it("an agent that reported before but stopped is named, not 'no agent'", () => {
    const summary = summarizeNodeAgent([
      row({ state: "silent", sensor: sensor("s-1", "2026-12-05T10:00:00.000Z") }),
    ]);
    expect(summary).toMatchObject({
      kind: "silent",
      sensorId: "s-1",
      lastSeenAt: "2026-12-05T10:00:00.000Z",
    });
  });

  it("without any agent, and without any row, no agent has reported", () => {
    expect(summarizeNodeAgent([row({ state: "crash-looping" })])).toMatchObject({ kind: "none" });
    expect(summarizeNodeAgent([]).text).toMatch(/^No agent has reported from this node yet/);
  });
});
