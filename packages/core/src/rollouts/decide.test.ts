import type { RolloutProgress } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import {
  nextRolloutStep,
  nextRolloutSteps,
  type ObservedCluster,
  type RolloutClusterState,
  type RolloutState,
  type RolloutStep,
} from "./decide.ts";
import type { GateVerdict } from "./gate.ts";
import type { RolloutClusterStatus, RolloutStatus } from "./schema.ts";

const T0 = new Date("2026-12-05T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const done: RolloutProgress = {
  observed: true,
  desired: 3,
  updated: 3,
  ready: 3,
  available: 3,
  complete: true,
};
const rolling: RolloutProgress = {
  observed: true,
  desired: 3,
  updated: 1,
  ready: 2,
  available: 2,
  complete: false,
};

const cluster = (
  clusterId: string,
  wave: number,
  status: RolloutClusterStatus = "pending",
  extra: Partial<RolloutClusterState> = {},
): RolloutClusterState => ({ clusterId, wave, status, deadline: null, reason: null, ...extra });
const rollout = (status: RolloutStatus, ...clusters: RolloutClusterState[]): RolloutState => ({
  status,
  clusters,
});
const seen = (
  template: "target" | "before" | "other",
  gate: Extract<ObservedCluster, { daemonSet: object }>["gate"] = null,
  progress = done,
): ObservedCluster => ({ reachable: true, daemonSet: { template, rollout: progress }, gate });
const gone: ObservedCluster = { reachable: true, daemonSet: null };
const unreachable: ObservedCluster = { reachable: false, error: "connect ECONNREFUSED" };
const pass = { verdict: "pass" } as const;
const waiting: GateVerdict = { verdict: "wait", pending: ["node-1: not Ready"] };
const crash = { verdict: "fail", reason: "node-3: CrashLoopBackOff, last message: boom" } as const;
const gateEnds = at(300);

const cases: [string, RolloutState, Record<string, ObservedCluster>, Date, RolloutStep][] = [
  [
    "pending: running",
    rollout("pending", cluster("canary", 0)),
    {},
    at(0),
    { kind: "record-rollout", status: "running" },
  ],
  [
    "running: start the canary first",
    rollout("running", cluster("canary", 0), cluster("a", 1)),
    {},
    at(0),
    { kind: "start-cluster", clusterId: "canary" },
  ],
  [
    "canary under way: the next wave waits",
    rollout("running", cluster("canary", 0, "gating", { deadline: gateEnds }), cluster("a", 1)),
    { canary: seen("target", waiting) },
    at(10),
    { kind: "wait", until: gateEnds },
  ],
  [
    "applying, template still old: patch it",
    rollout("running", cluster("a", 1, "applying")),
    { a: seen("before") },
    at(0),
    { kind: "patch", clusterId: "a", to: "target" },
  ],
  [
    "applying, patched (the leader died before recording it): start the gate",
    rollout("running", cluster("a", 1, "applying")),
    { a: seen("target", null, rolling) },
    at(1),
    { kind: "record-cluster", clusterId: "a", status: "gating", gate: true },
  ],
  [
    "gating, gate passes: succeeded",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: seen("target", pass) },
    at(30),
    { kind: "record-cluster", clusterId: "a", status: "succeeded" },
  ],
  [
    "gating, gate fails: roll back with the reason",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: seen("target", crash) },
    at(30),
    { kind: "record-cluster", clusterId: "a", status: "rolling-back", reason: crash.reason },
  ],
  [
    "gating, template changed by someone else: roll back",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: seen("other", waiting) },
    at(30),
    {
      kind: "record-cluster",
      clusterId: "a",
      status: "rolling-back",
      reason: "the DaemonSet's template was changed outside the rollout",
    },
  ],
  [
    "rolling back: patch the template from before",
    rollout("running", cluster("a", 1, "rolling-back", { deadline: gateEnds, reason: crash.reason })),
    { a: seen("target") },
    at(31),
    { kind: "patch", clusterId: "a", to: "before" },
  ],
  [
    "rolling back, pods rolling: wait for the deadline",
    rollout("running", cluster("a", 1, "rolling-back", { deadline: gateEnds, reason: crash.reason })),
    { a: seen("before", null, rolling) },
    at(32),
    { kind: "wait", until: gateEnds },
  ],
  [
    "rolling back, rolled out: rolled-back",
    rollout("running", cluster("a", 1, "rolling-back", { deadline: gateEnds, reason: crash.reason })),
    { a: seen("before") },
    at(40),
    { kind: "record-cluster", clusterId: "a", status: "rolled-back" },
  ],
  [
    "rolling back, the old pods do not come back in time: rolled-back, saying so",
    rollout("running", cluster("a", 1, "rolling-back", { deadline: gateEnds, reason: "x" })),
    { a: seen("before", null, rolling) },
    at(300),
    {
      kind: "record-cluster",
      clusterId: "a",
      status: "rolled-back",
      reason: "x; the previous template is back, but not every pod was available again in time (2 of 3)",
    },
  ],
  [
    "a rolled-back cluster stops later waves: finish rolled-back with its reason",
    rollout("running", cluster("canary", 0, "rolled-back", { reason: crash.reason }), cluster("a", 1)),
    {},
    at(50),
    { kind: "finish", status: "rolled-back", reason: `canary: ${crash.reason}` },
  ],
  [
    "…but the rest of its wave finishes its gate first",
    rollout(
      "running",
      cluster("a", 1, "rolled-back", { reason: "r" }),
      cluster("b", 1, "gating", { deadline: gateEnds }),
      cluster("c", 2),
    ),
    { b: seen("target", waiting) },
    at(50),
    { kind: "wait", until: gateEnds },
  ],
  [
    "a wave's clusters start together",
    rollout(
      "running",
      cluster("canary", 0, "succeeded"),
      cluster("a", 1, "applying"),
      cluster("b", 1),
      cluster("c", 2),
    ),
    { a: seen("target", null, rolling) },
    at(60),
    { kind: "record-cluster", clusterId: "a", status: "gating", gate: true },
  ],
  [
    "a wave's clusters start together (the second one)",
    rollout(
      "running",
      cluster("canary", 0, "succeeded"),
      cluster("a", 1, "gating", { deadline: gateEnds }),
      cluster("b", 1),
      cluster("c", 2),
    ),
    { a: seen("target", waiting) },
    at(60),
    { kind: "start-cluster", clusterId: "b" },
  ],
  [
    "all succeeded: finish",
    rollout("running", cluster("canary", 0, "succeeded"), cluster("a", 1, "succeeded")),
    {},
    at(90),
    { kind: "finish", status: "succeeded", reason: null },
  ],
  [
    "paused between clusters: wait",
    rollout("paused", cluster("canary", 0, "succeeded"), cluster("a", 1)),
    {},
    at(90),
    { kind: "wait", until: null },
  ],
  [
    "paused with a cluster under way: its gate goes on",
    rollout("paused", cluster("canary", 0, "gating", { deadline: gateEnds }), cluster("a", 1)),
    { canary: seen("target", pass) },
    at(90),
    { kind: "record-cluster", clusterId: "canary", status: "succeeded" },
  ],
  [
    "aborting: roll back the cluster under way, with the abort's own words (who aborted it)",
    {
      ...rollout(
        "aborting",
        cluster("canary", 0, "succeeded"),
        cluster("a", 1, "gating", { deadline: gateEnds }),
        cluster("b", 2),
      ),
      reason: "aborted by Ada Lovelace",
    },
    { a: seen("target", waiting) },
    at(90),
    { kind: "record-cluster", clusterId: "a", status: "rolling-back", reason: "aborted by Ada Lovelace" },
  ],
  [
    "aborting, nothing under way: aborted (pending clusters skipped)",
    rollout(
      "aborting",
      cluster("canary", 0, "succeeded"),
      cluster("a", 1, "rolled-back", { reason: "aborted by Ada Lovelace" }),
      cluster("b", 2),
    ),
    {},
    at(95),
    { kind: "finish", status: "aborted", reason: null },
  ],
  [
    "the DaemonSet is gone: failed",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: gone },
    at(10),
    { kind: "record-cluster", clusterId: "a", status: "failed", reason: "the sensor DaemonSet is gone" },
  ],
  [
    "a failed cluster ends the rollout failed",
    rollout(
      "running",
      cluster("a", 1, "failed", { reason: "the sensor DaemonSet is gone" }),
      cluster("b", 2),
    ),
    {},
    at(11),
    { kind: "finish", status: "failed", reason: "a: the sensor DaemonSet is gone" },
  ],
  [
    "unreachable while gating: wait until the deadline",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: unreachable },
    at(10),
    { kind: "wait", until: gateEnds },
  ],
  [
    "unreachable past the gate's deadline: roll back",
    rollout("running", cluster("a", 1, "gating", { deadline: gateEnds })),
    { a: unreachable },
    at(300),
    {
      kind: "record-cluster",
      clusterId: "a",
      status: "rolling-back",
      reason: "the cluster did not answer: connect ECONNREFUSED",
    },
  ],
  [
    "unreachable past the rollback's deadline: failed, saying why",
    rollout("running", cluster("a", 1, "rolling-back", { deadline: gateEnds })),
    { a: unreachable },
    at(301),
    {
      kind: "record-cluster",
      clusterId: "a",
      status: "failed",
      reason: "could not reach the cluster to roll back: connect ECONNREFUSED",
    },
  ],
  [
    "finished: nothing more",
    rollout("succeeded", cluster("a", 1, "succeeded")),
    {},
    at(999),
    { kind: "wait", until: null },
  ],
];

describe("nextRolloutStep", () => {
  it.each(cases)("%s", (_name, state, observed, now, expected) => {
    expect(nextRolloutStep(state, observed, now)).toEqual(expected);
  });

  it("gives every cluster's step at once: the wave's starts, and each cluster under way", () => {
    const state = rollout(
      "running",
      cluster("canary", 0, "succeeded"),
      cluster("a", 1, "applying"),
      cluster("b", 1, "gating", { deadline: gateEnds }),
      cluster("c", 1),
      cluster("d", 1),
      cluster("e", 2),
    );
    expect(nextRolloutSteps(state, { a: seen("before"), b: seen("target", pass) }, at(10))).toEqual([
      { kind: "patch", clusterId: "a", to: "target" },
      { kind: "record-cluster", clusterId: "b", status: "succeeded" },
      { kind: "start-cluster", clusterId: "c" },
      { kind: "start-cluster", clusterId: "d" },
    ]);
  });

  it("walks a canary and a wave of two on a manual clock, and rolls back a crash in the wave", () => {
    let state = rollout("pending", cluster("canary", 0), cluster("a", 1), cluster("b", 1), cluster("c", 2));
    const templates: Record<string, "before" | "target"> = {
      canary: "before",
      a: "before",
      b: "before",
      c: "before",
    };
    const log: string[] = [];
    const set = (clusterId: string, patch: Partial<RolloutClusterState>) => {
      state = {
        ...state,
        clusters: state.clusters.map((c) => (c.clusterId === clusterId ? { ...c, ...patch } : c)),
      };
    };
    let now = at(0);
    for (
      let i = 0;
      i < 40 && !["succeeded", "rolled-back", "failed", "aborted"].includes(state.status);
      i++
    ) {
      const observed: Record<string, ObservedCluster> = {};
      for (const c of state.clusters)
        observed[c.clusterId] = seen(templates[c.clusterId]!, c.clusterId === "b" ? crash : pass);
      const step = nextRolloutStep(state, observed, now);
      if (step.kind === "wait") {
        now = step.until ?? at(now.getTime() / 1000 + 1);
        log.push("wait");
        continue;
      }
      if (step.kind === "record-rollout" || step.kind === "finish") {
        state = { ...state, status: step.status };
        log.push(`rollout ${step.status}`);
      } else if (step.kind === "start-cluster") {
        set(step.clusterId, { status: "applying" });
        log.push(`start ${step.clusterId}`);
      } else if (step.kind === "patch") {
        templates[step.clusterId] = step.to;
        log.push(`patch ${step.clusterId} ${step.to}`);
      } else {
        set(step.clusterId, {
          status: step.status,
          ...(step.reason ? { reason: step.reason } : {}),
          ...(step.gate ? { deadline: at(300) } : {}),
        });
        log.push(`${step.clusterId} ${step.status}`);
      }
    }
    expect(log).toEqual([
      "rollout running",
      "start canary",
      "patch canary target",
      "canary gating",
      "canary succeeded",
      "start a",
      "patch a target",
      "a gating",
      "a succeeded",
      "start b",
      "patch b target",
      "b gating",
      "b rolling-back",
      "patch b before",
      "b rolled-back",
      "rollout rolled-back",
    ]);
    expect(state.clusters.map((c) => [c.clusterId, c.status])).toEqual([
      ["canary", "succeeded"],
      ["a", "succeeded"],
      ["b", "rolled-back"],
      ["c", "pending"],
    ]);
  });
});
