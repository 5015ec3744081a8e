import { describe, expect, it } from "vitest";
import type { CoverageState, NodeCoverage } from "./coverage.ts";
import { T0, at, makeDaemonSet, makeNode, makePod } from "./fixtures.test-helpers.ts";
import { buildInventory } from "./inventory.ts";
import { computeInventoryCoverage, summarizeCoverage, type NodeCoverageEntry } from "./summary.ts";
import type { AgentReportSeen } from "./types.ts";

function entry(
  clusterId: string,
  nodeName: string,
  state: CoverageState,
  shouldRun = state !== "excluded",
  daemonSet = "sensor",
): NodeCoverageEntry {
  const coverage: NodeCoverage = {
    state,
    reason: "…",
    since: T0,
    shouldRun,
    changesAt: null,
    stale: state === "unreachable",
  };
  return { clusterId, daemonSet: { namespace: "tapfleet", name: daemonSet }, nodeName, coverage };
}

describe("summarizeCoverage", () => {
  it.each<{
    name: string;
    nodes: NodeCoverageEntry[];
    targeted: number;
    covered: number;
    percent: number | null;
  }>([
    { name: "nothing at all", nodes: [], targeted: 0, covered: 0, percent: null },
    {
      name: "every targeted node covered",
      nodes: [entry("prod", "a", "covered"), entry("prod", "b", "covered")],
      targeted: 2,
      covered: 2,
      percent: 100,
    },
    {
      name: "excluded nodes do not count",
      nodes: [entry("prod", "a", "covered"), entry("prod", "b", "excluded"), entry("prod", "c", "excluded")],
      targeted: 1,
      covered: 1,
      percent: 100,
    },
    {
      name: "only excluded nodes: null, not 100 % nor NaN",
      nodes: [entry("prod", "a", "excluded")],
      targeted: 0,
      covered: 0,
      percent: null,
    },
    {
      name: "every other state counts against coverage",
      nodes: [
        entry("prod", "a", "covered"),
        entry("prod", "b", "starting"),
        entry("prod", "c", "crash-looping"),
        entry("prod", "d", "pending"),
        entry("prod", "e", "silent"),
        entry("prod", "f", "not-scheduled"),
        entry("prod", "g", "node-not-ready"),
        entry("prod", "h", "unreachable"),
      ],
      targeted: 8,
      covered: 1,
      percent: 12.5,
    },
    {
      name: "a not-ready node that is not targeted does not count",
      nodes: [entry("prod", "a", "covered"), entry("prod", "b", "node-not-ready", false)],
      targeted: 1,
      covered: 1,
      percent: 100,
    },
    {
      name: "two of three",
      nodes: [entry("prod", "a", "covered"), entry("prod", "b", "covered"), entry("prod", "c", "silent")],
      targeted: 3,
      covered: 2,
      percent: (2 / 3) * 100,
    },
  ])("$name", ({ nodes, targeted, covered, percent }) => {
    const { fleet } = summarizeCoverage({ nodes });
    expect(fleet).toMatchObject({ targeted, covered, coveragePercent: percent });
    expect(Object.values(fleet.counts).reduce((a, b) => a + b, 0)).toBe(nodes.length);
  });

  it("counts per DaemonSet, per cluster and for the fleet", () => {
    const summary = summarizeCoverage({
      nodes: [
        entry("prod", "a", "covered"),
        entry("prod", "b", "silent"),
        entry("prod", "a", "covered", true, "sensor-canary"),
        entry("prod", "b", "excluded", false, "sensor-canary"),
        entry("lab", "x", "excluded"),
        entry("edge", "e1", "unreachable"),
      ],
      clusterIds: ["prod", "lab", "edge", "empty"],
    });
    expect(summary.fleet).toMatchObject({ targeted: 4, covered: 2, coveragePercent: 50, stale: true });
    expect(summary.fleet.counts).toEqual({
      unreachable: 1,
      "node-not-ready": 0,
      excluded: 2,
      "not-scheduled": 0,
      pending: 0,
      "crash-looping": 0,
      starting: 0,
      silent: 1,
      covered: 2,
    });
    expect(summary.clusters.prod).toMatchObject({ targeted: 3, covered: 2, stale: false });
    expect(summary.clusters.prod!.coveragePercent).toBeCloseTo(66.667, 2);
    expect(summary.daemonSets.prod!["tapfleet/sensor"]).toMatchObject({
      targeted: 2,
      covered: 1,
      coveragePercent: 50,
    });
    expect(summary.daemonSets.prod!["tapfleet/sensor-canary"]).toMatchObject({
      targeted: 1,
      covered: 1,
      coveragePercent: 100,
    });
    expect(summary.clusters.lab).toMatchObject({ targeted: 0, coveragePercent: null });
    expect(summary.clusters.edge).toMatchObject({ targeted: 1, covered: 0, coveragePercent: 0, stale: true });
    expect(summary.clusters.empty).toMatchObject({ targeted: 0, coveragePercent: null });
    expect(summary.daemonSets.empty).toEqual({});
  });
});

describe("computeInventoryCoverage", () => {
  const inventory = buildInventory([
    {
      type: "cluster-synced",
      clusterId: "prod",
      at: at(-3600),
      nodes: [
        makeNode({ name: "node-a" }),
        makeNode({ name: "node-b" }),
        makeNode({ name: "infra-1", taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] }),
      ],
      daemonSets: [makeDaemonSet()],
      pods: [
        makePod({ name: "sensor-a", nodeName: "node-a" }),
        makePod({ name: "sensor-b", nodeName: "node-b" }),
      ],
    },
    {
      type: "cluster-synced",
      clusterId: "lab",
      at: at(-3600),
      nodes: [makeNode({ name: "node-a" })],
      daemonSets: [makeDaemonSet()],
      pods: [makePod({ name: "sensor-a", nodeName: "node-a" })],
    },
    { type: "cluster-unreachable", clusterId: "lab", at: at(-120), reason: "connect ETIMEDOUT" },
  ]);
  const report = (
    clusterId: string,
    nodeName: string,
    podName: string,
    seconds: number,
  ): AgentReportSeen => ({
    clusterId,
    nodeName,
    podName,
    receivedAt: at(seconds),
    reportIntervalSeconds: 10,
  });

  it("joins reports by cluster, node and pod name", () => {
    const entries = computeInventoryCoverage({
      inventory,
      reports: [
        report("prod", "node-a", "sensor-a", -5),
        report("prod", "node-a", "sensor-a", -50), // older: ignored
        // Same node and pod names in another cluster: no report for prod's node-b.
        report("lab", "node-b", "sensor-b", -5),
        // Right cluster and pod, wrong node.
        report("prod", "node-a", "sensor-b", -5),
      ],
      now: new Date(T0),
    });
    const states = entries.map((e) => [e.clusterId, e.nodeName, e.coverage.state]);
    expect(states).toEqual([
      ["lab", "node-a", "unreachable"],
      ["prod", "infra-1", "excluded"],
      ["prod", "node-a", "covered"],
      ["prod", "node-b", "silent"],
    ]);
    expect(entries[0]!.coverage).toMatchObject({ since: at(-120), stale: true });
    expect(entries[2]!.coverage.details?.lastReportAt).toBe(at(-5));
    expect(summarizeCoverage({ nodes: entries }).clusters).toMatchObject({
      prod: { targeted: 2, covered: 1, coveragePercent: 50 },
      lab: { targeted: 1, covered: 0, coveragePercent: 0, stale: true },
    });
  });

  it("keeps each state's since from the previous verdicts", () => {
    const reports = [report("prod", "node-a", "sensor-a", -5)];
    const first = computeInventoryCoverage({ inventory, reports, now: new Date(at(-1)) });
    const later = computeInventoryCoverage({
      inventory,
      reports: [report("prod", "node-a", "sensor-a", 4)],
      previous: first,
      now: new Date(at(5)),
    });
    const covered = later.find((e) => e.clusterId === "prod" && e.nodeName === "node-a")!;
    expect(covered.coverage).toMatchObject({ state: "covered", since: at(-5) });
  });
});
