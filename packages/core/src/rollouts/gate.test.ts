import type { RolloutProgress } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import {
  judgeClusterGate,
  measureHealthBaseline,
  type GateVerdict,
  type NodeBaseline,
  type NodeHealth,
} from "./gate.ts";

const T0 = new Date("2026-12-05T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const DEADLINE = at(120);

const complete: RolloutProgress = {
  observed: true,
  desired: 2,
  updated: 2,
  ready: 2,
  available: 2,
  complete: true,
};
const halfway: RolloutProgress = {
  observed: true,
  desired: 2,
  updated: 1,
  ready: 1,
  available: 1,
  complete: false,
};

const healthy = (nodeName: string, overrides: Partial<NodeBaseline> = {}): NodeBaseline => ({
  nodeName,
  ready: true,
  reporting: true,
  capturing: true,
  dropRate: 0.01,
  ...overrides,
});
const silentBefore = (nodeName: string): NodeBaseline =>
  healthy(nodeName, { reporting: false, capturing: false, dropRate: null });

const node = (nodeName: string, overrides: Partial<NodeHealth> = {}): NodeHealth => ({
  nodeName,
  podName: `sensor-${nodeName}-new`,
  updated: true,
  ready: true,
  waitingReason: null,
  restarts: 0,
  terminated: null,
  lastTermination: null,
  agent: { podName: `sensor-${nodeName}-new`, lastSeenAt: at(20), packets: 1000, drops: 10 },
  ...overrides,
});

const crashed = (nodeName: string): NodeHealth =>
  node(nodeName, {
    ready: false,
    waitingReason: "CrashLoopBackOff",
    restarts: 3,
    lastTermination: { reason: "Error", message: "OSSENSOR_CONFIG_PATH: cannot write /etc", exitCode: 1 },
    agent: { podName: `sensor-${nodeName}-old`, lastSeenAt: at(-5), packets: 1000, drops: 0 },
  });

/** The agent's own last words as the kubelet keeps them (FallbackToLogsOnError: the log's tail). */
const CA_LOG =
  "2026-12-05T10:00:01.000Z [0] capturing with libpcap version 1.10.3\n" +
  "tapfleet-agent: cannot read the TLS CA file /nonexistent/ca.pem (VSENSOR_TLS_CA_FILE): ENOENT: no such file or directory\n";
const CA_END = { reason: "Error", message: CA_LOG, exitCode: 2 };
const LAST_LINES =
  "last message: 2026-12-05T10:00:01.000Z [0] capturing with libpcap version 1.10.3 | tapfleet-agent: cannot read the TLS CA file /nonexistent/ca.pem (VSENSOR_TLS_CA_FILE): ENOENT: no such file or directory";
/** An updated pod as the kubelet shows it between its agent's exit and the restart. */
const justEnded = (nodeName: string, overrides: Partial<NodeHealth> = {}): NodeHealth =>
  node(nodeName, {
    ready: false,
    terminated: CA_END,
    agent: { podName: `sensor-${nodeName}-old`, lastSeenAt: at(-5), packets: 1000, drops: 0 },
    ...overrides,
  });

const cases: [string, NodeBaseline[], NodeHealth[], RolloutProgress, Date, GateVerdict][] = [
  [
    "all updated, Ready, reporting and capturing: pass",
    [healthy("node-1"), healthy("node-2")],
    [node("node-1"), node("node-2")],
    complete,
    at(30),
    { verdict: "pass" },
  ],
  [
    "an updated pod crash-loops: fail at once, naming the node and the last message",
    [healthy("node-1"), healthy("node-2")],
    [node("node-1"), crashed("node-2")],
    halfway,
    at(10),
    {
      verdict: "fail",
      reason: "node-2: CrashLoopBackOff, exit code 1, last message: OSSENSOR_CONFIG_PATH: cannot write /etc",
    },
  ],
  [
    "an updated pod whose agent has just exited (terminated, not restarted yet): a crash at once, with its exit code and last words",
    [healthy("node-1"), healthy("node-2")],
    [node("node-1"), justEnded("node-2")],
    halfway,
    at(3),
    { verdict: "fail", reason: `node-2: Error, exit code 2, ${LAST_LINES}` },
  ],
  [
    "…also when the kubelet waits before starting it again (restart 0, last state terminated)",
    [healthy("node-1")],
    [justEnded("node-1", { terminated: null, waitingReason: "CrashLoopBackOff", lastTermination: CA_END })],
    halfway,
    at(3),
    { verdict: "fail", reason: `node-1: CrashLoopBackOff, exit code 2, ${LAST_LINES}` },
  ],
  [
    "…and when it already runs again after its first restart (running, last state terminated)",
    [healthy("node-1")],
    [justEnded("node-1", { terminated: null, restarts: 1, lastTermination: CA_END })],
    halfway,
    at(3),
    { verdict: "fail", reason: `node-1: Error, exit code 2, restarted 1 time, ${LAST_LINES}` },
  ],
  [
    "a node that did not take the new template and crashes: the deadline's reason names the crash first",
    [healthy("node-1"), healthy("node-2")],
    [node("node-1"), justEnded("node-2", { updated: false })],
    halfway,
    at(120),
    {
      verdict: "fail",
      reason: `not healthy within 120 s: node-2: still on the old template (Error, exit code 2, ${LAST_LINES}); 1 of 2 pods run the new template; 1 of 2 pods available (Ready for minReadySeconds)`,
    },
  ],
  [
    "…but restarts of an old pod from before the change are not called a crash",
    [healthy("node-1")],
    [node("node-1", { updated: false, restarts: 4, lastTermination: CA_END })],
    halfway,
    at(10),
    {
      verdict: "wait",
      pending: [
        "1 of 2 pods run the new template",
        "1 of 2 pods available (Ready for minReadySeconds)",
        "node-1: still on the old template",
      ],
    },
  ],
  [
    "a node that crash-looped before too is not held against the change",
    [
      healthy("node-1"),
      healthy("node-2", { ready: false, reporting: false, capturing: false, dropRate: null }),
    ],
    [node("node-1"), crashed("node-2")],
    { ...complete, available: 1, ready: 1 },
    at(10),
    { verdict: "pass" },
  ],
  [
    "rolling: wait",
    [healthy("node-1"), healthy("node-2")],
    [
      node("node-1"),
      node("node-2", {
        updated: false,
        agent: { podName: "sensor-node-2-old", lastSeenAt: at(1), packets: 5, drops: 0 },
      }),
    ],
    halfway,
    at(10),
    {
      verdict: "wait",
      pending: [
        "1 of 2 pods run the new template",
        "1 of 2 pods available (Ready for minReadySeconds)",
        "node-2: still on the old template",
      ],
    },
  ],
  [
    "Ready but not yet available (minReadySeconds): wait",
    [healthy("node-1"), healthy("node-2")],
    [node("node-1"), node("node-2")],
    { ...complete, available: 0, complete: false },
    at(2),
    { verdict: "wait", pending: ["0 of 2 pods available (Ready for minReadySeconds)"] },
  ],
  [
    "the controller has not seen the change: wait",
    [healthy("node-1")],
    [node("node-1", { updated: false })],
    { ...complete, observed: false, complete: false },
    at(1),
    {
      verdict: "wait",
      pending: ["the DaemonSet controller has not seen the change yet", "node-1: still on the old template"],
    },
  ],
  [
    "the new agent has not reported yet: wait",
    [healthy("node-1")],
    [node("node-1", { agent: { podName: "sensor-node-1-old", lastSeenAt: at(-3), packets: 900, drops: 0 } })],
    complete,
    at(10),
    { verdict: "wait", pending: ["node-1: no report from the new agent (it reported before the change)"] },
  ],
  [
    "…and still has not at the deadline: fail with what is missing",
    [healthy("node-1")],
    [node("node-1", { agent: { podName: "sensor-node-1-old", lastSeenAt: at(-3), packets: 900, drops: 0 } })],
    complete,
    at(120),
    {
      verdict: "fail",
      reason:
        "not healthy within 120 s: node-1: no report from the new agent (it reported before the change)",
    },
  ],
  [
    "the new agent captures nothing where the old one did: wait, then fail",
    [healthy("node-1")],
    [node("node-1", { agent: { podName: "sensor-node-1-new", lastSeenAt: at(20), packets: 0, drops: 0 } })],
    complete,
    at(121),
    {
      verdict: "fail",
      reason:
        "not healthy within 120 s: node-1: the new agent captures nothing (it captured before the change)",
    },
  ],
  [
    "the drop rate collapses: wait and say so",
    [healthy("node-1", { dropRate: 0.02 })],
    [
      node("node-1", {
        agent: { podName: "sensor-node-1-new", lastSeenAt: at(20), packets: 550, drops: 450 },
      }),
    ],
    complete,
    at(30),
    { verdict: "wait", pending: ["node-1: drop rate 45% (was 2%)"] },
  ],
  [
    "an agent that never reported is judged on readiness alone",
    [silentBefore("node-1")],
    [node("node-1", { agent: null })],
    { ...complete, desired: 1, updated: 1, ready: 1, available: 1 },
    at(5),
    { verdict: "pass" },
  ],
  [
    "…and not Ready at the deadline fails",
    [silentBefore("node-1")],
    [node("node-1", { agent: null, ready: false })],
    { ...complete, desired: 1, updated: 1, ready: 0, available: 0, complete: false },
    at(120),
    {
      verdict: "fail",
      reason:
        "not healthy within 120 s: 0 of 1 pods available (Ready for minReadySeconds); node-1: not Ready",
    },
  ],
  [
    "a reporting agent that was not capturing need not capture after",
    [healthy("node-1", { capturing: false, dropRate: null })],
    [node("node-1", { agent: { podName: "sensor-node-1-new", lastSeenAt: at(20), packets: 0, drops: 0 } })],
    { ...complete, desired: 1, updated: 1, ready: 1, available: 1 },
    at(30),
    { verdict: "pass" },
  ],
  [
    "a node added since the change counts as healthy and silent",
    [healthy("node-1")],
    [node("node-1"), node("node-9", { agent: null })],
    complete,
    at(30),
    { verdict: "pass" },
  ],
];

describe("judgeClusterGate", () => {
  it.each(cases)("%s", (_name, baseline, nodes, rollout, now, expected) => {
    expect(judgeClusterGate({ baseline, nodes, rollout, changedAt: at(0), deadline: DEADLINE, now })).toEqual(
      expected,
    );
  });

  it("says how a pod ended and how often it restarted when it is not waiting, and quotes the last two lines of its log", () => {
    const verdict = judgeClusterGate({
      baseline: [healthy("node-1")],
      nodes: [
        node("node-1", {
          restarts: 1,
          lastTermination: { reason: "Error", message: "starting\nbad port 9999\nexiting\n", exitCode: 2 },
        }),
      ],
      rollout: complete,
      changedAt: at(0),
      deadline: DEADLINE,
      now: at(3),
    });
    expect(verdict).toEqual({
      verdict: "fail",
      reason: "node-1: Error, exit code 2, restarted 1 time, last message: bad port 9999 | exiting",
    });
  });

  it("names at most three nodes and counts the rest", () => {
    const names = ["node-1", "node-2", "node-3", "node-4", "node-5"];
    const verdict = judgeClusterGate({
      baseline: names.map((n) => healthy(n)),
      nodes: names.map(crashed),
      rollout: complete,
      changedAt: at(0),
      deadline: DEADLINE,
      now: at(5),
    });
    expect(verdict.verdict).toBe("fail");
    expect(verdict.verdict === "fail" && verdict.reason).toMatch(
      /^node-1: CrashLoopBackOff.*node-3: .*; and 2 more$/,
    );
  });
});

describe("measureHealthBaseline", () => {
  it("counts an agent as reporting only for the pod running now, with a fresh report", () => {
    const baseline = measureHealthBaseline({
      now: at(0),
      nodes: [
        node("fresh", {
          agent: { podName: "sensor-fresh-new", lastSeenAt: at(-10), packets: 90, drops: 10 },
        }),
        node("stale", {
          agent: { podName: "sensor-stale-new", lastSeenAt: at(-600), packets: 90, drops: 10 },
        }),
        node("other-pod", { agent: { podName: "gone", lastSeenAt: at(-1), packets: 90, drops: 10 } }),
        node("idle", { agent: { podName: "sensor-idle-new", lastSeenAt: at(-1), packets: 0, drops: 0 } }),
        node("never", { agent: null, ready: false, waitingReason: "CrashLoopBackOff" }),
      ],
    });
    expect(baseline).toEqual([
      { nodeName: "fresh", ready: true, reporting: true, capturing: true, dropRate: 0.1 },
      { nodeName: "stale", ready: true, reporting: false, capturing: false, dropRate: null },
      { nodeName: "other-pod", ready: true, reporting: false, capturing: false, dropRate: null },
      { nodeName: "idle", ready: true, reporting: true, capturing: false, dropRate: null },
      { nodeName: "never", ready: false, reporting: false, capturing: false, dropRate: null },
    ]);
  });
});
