import { describe, expect, it } from "vitest";
import { COVERAGE_STATES, nodeCoverage, selectDaemonPod, type NodeCoverage } from "./coverage.ts";
import { T0, at, makeDaemonSet, makeNode, makePod, runningContainer } from "./fixtures.test-helpers.ts";
import type { AgentReportSeen, InventoryDaemonSet, InventoryNode, InventoryPod } from "./types.ts";

const now = new Date(T0);
const report = (seconds: number, overrides: Partial<AgentReportSeen> = {}): AgentReportSeen => ({
  clusterId: "prod",
  nodeName: "node-a",
  podName: "sensor-abcde",
  receivedAt: at(seconds),
  reportIntervalSeconds: 10,
  ...overrides,
});

interface Case {
  name: string;
  node?: Partial<InventoryNode>;
  daemonSet?: Partial<InventoryDaemonSet>;
  /** null: no pod on the node. */
  pod?: Partial<InventoryPod> | null;
  lastReport?: AgentReportSeen | null;
  clusterReachable?: boolean;
  clusterUnreachableSince?: string;
  previous?: NodeCoverage | null;
  expected: Partial<NodeCoverage>;
}

function judge(c: Case): NodeCoverage {
  return nodeCoverage({
    node: makeNode(c.node),
    daemonSet: makeDaemonSet(c.daemonSet),
    pod: c.pod === null ? null : makePod(c.pod),
    lastReport: c.lastReport ?? null,
    clusterReachable: c.clusterReachable ?? true,
    ...(c.clusterUnreachableSince === undefined
      ? {}
      : { clusterUnreachableSince: c.clusterUnreachableSince }),
    previous: c.previous ?? null,
    now,
  });
}

const crashing = runningContainer({
  ready: false,
  restartCount: 5,
  state: {
    waiting: { reason: "CrashLoopBackOff", message: "back-off 2m40s restarting failed container=agent" },
  },
  lastState: {
    terminated: {
      exitCode: 1,
      reason: "Error",
      message: "capture: eth0: permission denied.\n",
      startedAt: at(-100),
      finishedAt: at(-99),
    },
  },
});

const notReady = { status: "False" as const, reason: "ContainersNotReady", lastTransitionTime: at(-300) };

/** One case per word of the vocabulary (at least), then the precedence between them. */
const cases: Case[] = [
  // --- covered ---------------------------------------------------------------
  {
    name: "covered: Ready and reported within three intervals",
    lastReport: report(-5),
    expected: {
      state: "covered",
      reason: "Pod sensor-abcde is ready and its agent is reporting.",
      since: at(-5),
      shouldRun: true,
      changesAt: at(25),
      stale: false,
      details: { podName: "sensor-abcde", restartCount: 0, lastReportAt: at(-5), reportIntervalSeconds: 10 },
    },
  },
  {
    name: "covered: the report's own interval wins over the template's",
    daemonSet: { reportIntervalSeconds: 10 },
    lastReport: report(-80, { reportIntervalSeconds: 30 }),
    expected: { state: "covered", changesAt: at(10) },
  },
  {
    name: "covered: an agent without an interval counts with the default (10 s)",
    daemonSet: { reportIntervalSeconds: null },
    lastReport: report(-29, { reportIntervalSeconds: null }),
    expected: { state: "covered", changesAt: at(1) },
  },
  // --- starting --------------------------------------------------------------
  {
    name: "starting: Running but not Ready",
    pod: {
      ready: { status: "False", lastTransitionTime: at(-20) },
      containerStatuses: [runningContainer({ ready: false, state: { running: { startedAt: at(-20) } } })],
    },
    expected: {
      state: "starting",
      reason: "Pod sensor-abcde is running but not ready (waiting for agent).",
      since: at(-20),
      changesAt: null,
    },
  },
  {
    name: "starting: Ready, no report yet, within three intervals",
    pod: { ready: { status: "True", lastTransitionTime: at(-12) } },
    expected: {
      state: "starting",
      reason: "Pod sensor-abcde is ready; waiting for its agent's first report.",
      since: at(-12),
      changesAt: at(18),
    },
  },
  {
    name: "starting: Ready again after the last report (a restarted container)",
    pod: { ready: { status: "True", lastTransitionTime: at(-5) } },
    lastReport: report(-100),
    expected: { state: "starting", since: at(-5), changesAt: at(25) },
  },
  // --- silent ----------------------------------------------------------------
  {
    name: "silent: Ready but never reported",
    expected: {
      state: "silent",
      reason: "Pod sensor-abcde is ready but its agent has never reported.",
      since: at(-570),
      changesAt: null,
    },
  },
  {
    name: "silent: reports stopped",
    lastReport: report(-100),
    expected: {
      state: "silent",
      reason: "Pod sensor-abcde is ready but its agent stopped reporting.",
      since: at(-70),
      details: {
        podName: "sensor-abcde",
        restartCount: 0,
        lastReportAt: at(-100),
        reportIntervalSeconds: 10,
      },
    },
  },
  {
    name: "silent: exactly three intervals after the last report",
    lastReport: report(-30),
    expected: { state: "silent", since: at(0) },
  },
  {
    name: "silent: a report of another pod on the node does not count",
    lastReport: report(-5, { podName: "sensor-old" }),
    expected: { state: "silent", since: at(-570) },
  },
  // --- crash-looping -----------------------------------------------------------
  {
    name: "crash-looping: waiting in CrashLoopBackOff, with restarts and the last termination",
    pod: { ready: notReady, containerStatuses: [crashing] },
    expected: {
      state: "crash-looping",
      reason:
        "Container agent of pod sensor-abcde keeps crashing: restarted 5 times; last exit Error (exit code 1): capture: eth0: permission denied.",
      since: at(-300),
      details: {
        podName: "sensor-abcde",
        restartCount: 5,
        container: "agent",
        lastTerminationReason: "Error",
        lastTerminationMessage: "capture: eth0: permission denied.\n",
        lastExitCode: 1,
      },
    },
  },
  {
    name: "crash-looping: restart count grew with a terminated last state",
    pod: {
      ready: notReady,
      containerStatuses: [
        runningContainer({
          ready: false,
          restartCount: 2,
          lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } },
        }),
      ],
    },
    previous: {
      state: "starting",
      reason: "…",
      since: at(-400),
      shouldRun: true,
      changesAt: null,
      stale: false,
      details: { podName: "sensor-abcde", restartCount: 1 },
    },
    expected: {
      state: "crash-looping",
      reason:
        "Container agent of pod sensor-abcde keeps crashing: restarted 2 times; last exit OOMKilled (exit code 137).",
      since: at(-300),
    },
  },
  {
    name: "not crash-looping: the same restart count as before, not Ready, is starting",
    pod: {
      ready: notReady,
      containerStatuses: [
        runningContainer({ ready: false, restartCount: 2, lastState: { terminated: { exitCode: 1 } } }),
      ],
    },
    previous: {
      state: "starting",
      reason: "…",
      since: at(-400),
      shouldRun: true,
      changesAt: null,
      stale: false,
      details: { podName: "sensor-abcde", restartCount: 2 },
    },
    expected: { state: "starting", since: at(-400) },
  },
  {
    name: "not crash-looping: restarted once, Ready again and reporting",
    pod: {
      containerStatuses: [runningContainer({ restartCount: 1, lastState: { terminated: { exitCode: 1 } } })],
    },
    lastReport: report(-1),
    expected: { state: "covered" },
  },
  // --- pending ---------------------------------------------------------------
  {
    name: "pending: the kubelet cannot pull the image",
    pod: {
      phase: "Pending",
      ready: notReady,
      containerStatuses: [
        runningContainer({
          ready: false,
          state: {
            waiting: {
              reason: "ImagePullBackOff",
              message: 'Back-off pulling image "ghcr.io/tapfleet/agent:9.9"',
            },
          },
        }),
      ],
    },
    expected: {
      state: "pending",
      reason:
        'Pod sensor-abcde is waiting for container agent: ImagePullBackOff: Back-off pulling image "ghcr.io/tapfleet/agent:9.9".',
      since: at(-660),
      details: { podName: "sensor-abcde", restartCount: 0, waitingReason: "ImagePullBackOff" },
    },
  },
  {
    name: "pending: the scheduler's reason",
    pod: {
      phase: "Pending",
      ready: null,
      containerStatuses: [],
      scheduled: {
        status: "False",
        reason: "Unschedulable",
        message: "0/3 nodes are available: 1 Insufficient memory.",
      },
    },
    expected: {
      state: "pending",
      reason:
        "Pod sensor-abcde cannot be scheduled: Unschedulable: 0/3 nodes are available: 1 Insufficient memory.",
    },
  },
  {
    name: "pending: no reason yet",
    pod: { phase: "Pending", ready: null, containerStatuses: [] },
    expected: { state: "pending", reason: "Pod sensor-abcde is pending." },
  },
  // --- not-scheduled -----------------------------------------------------------
  {
    name: "not-scheduled: should run, no pod",
    pod: null,
    expected: {
      state: "not-scheduled",
      reason:
        "The DaemonSet tapfleet/sensor should run a pod on this node, but it has none yet; see the DaemonSet's events for why.",
      since: T0,
      shouldRun: true,
    },
  },
  {
    name: "not-scheduled: the pod failed",
    pod: {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
      ready: notReady,
    },
    expected: {
      state: "not-scheduled",
      reason:
        "Pod sensor-abcde failed (Evicted: The node was low on resource: memory); the DaemonSet controller replaces it.",
    },
  },
  // --- node-not-ready ----------------------------------------------------------
  {
    name: "node-not-ready: the kubelet says not ready",
    node: {
      ready: {
        status: "False",
        reason: "KubeletNotReady",
        message: "container runtime network not ready.",
        lastTransitionTime: at(-45),
      },
    },
    expected: {
      state: "node-not-ready",
      reason: "Node is not ready: KubeletNotReady: container runtime network not ready.",
      since: at(-45),
      shouldRun: true,
    },
  },
  {
    name: "node-not-ready: the node stopped reporting",
    node: {
      ready: {
        status: "Unknown",
        reason: "NodeStatusUnknown",
        message: "Kubelet stopped posting node status.",
        lastTransitionTime: at(-90),
      },
    },
    expected: {
      state: "node-not-ready",
      reason: "Node stopped reporting its status (NodeStatusUnknown: Kubelet stopped posting node status).",
      since: at(-90),
    },
  },
  {
    name: "node-not-ready: no Ready condition at all",
    node: { ready: null },
    pod: null,
    expected: { state: "node-not-ready", reason: "Node has not reported whether it is ready.", since: T0 },
  },
  // --- excluded ----------------------------------------------------------------
  {
    name: "excluded: a taint not tolerated",
    node: { taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] },
    pod: null,
    expected: {
      state: "excluded",
      reason: "Taint dedicated=infra:NoSchedule is not tolerated.",
      shouldRun: false,
      since: T0,
    },
  },
  {
    name: "excluded: the nodeSelector",
    node: { labels: { role: "edge" } },
    daemonSet: { nodeSelector: { role: "worker" } },
    pod: null,
    expected: { state: "excluded", reason: "Label role=edge does not match the nodeSelector role=worker." },
  },
  // --- unreachable ---------------------------------------------------------------
  {
    name: "unreachable: the last known verdict is kept, stale",
    lastReport: report(-5),
    clusterReachable: false,
    clusterUnreachableSince: at(-60),
    previous: {
      state: "covered",
      reason: "Pod sensor-abcde is ready and its agent reported.",
      since: at(-3000),
      shouldRun: true,
      changesAt: at(25),
      stale: false,
    },
    expected: {
      state: "unreachable",
      reason:
        "The cluster's API cannot be reached; last known: covered — Pod sensor-abcde is ready and its agent reported.",
      since: at(-60),
      shouldRun: true,
      changesAt: null,
      stale: true,
      details: {
        lastKnown: {
          state: "covered",
          reason: "Pod sensor-abcde is ready and its agent reported.",
          since: at(-3000),
        },
      },
    },
  },
  {
    name: "unreachable: without a previous verdict, the last known objects are judged",
    clusterReachable: false,
    node: { taints: [{ key: "dedicated", effect: "NoSchedule" }] },
    expected: {
      state: "unreachable",
      since: T0,
      shouldRun: false,
      stale: true,
      details: {
        lastKnown: { state: "excluded", reason: "Taint dedicated:NoSchedule is not tolerated.", since: T0 },
      },
    },
  },
  // --- precedence ------------------------------------------------------------------
  {
    name: "precedence: unreachable before node-not-ready",
    clusterReachable: false,
    node: { ready: { status: "Unknown", lastTransitionTime: at(-10) } },
    expected: { state: "unreachable" },
  },
  {
    name: "precedence: node-not-ready before excluded (shouldRun still told)",
    node: {
      ready: { status: "False", lastTransitionTime: at(-10) },
      taints: [{ key: "dedicated", effect: "NoSchedule" }],
    },
    pod: null,
    expected: { state: "node-not-ready", shouldRun: false },
  },
  {
    name: "precedence: excluded before a pod still running there",
    node: { taints: [{ key: "dedicated", effect: "NoSchedule" }] },
    lastReport: report(-5),
    expected: { state: "excluded", shouldRun: false, details: { podName: "sensor-abcde" } },
  },
  {
    name: "precedence: excluded before not-scheduled (no pod on a node not targeted)",
    node: { labels: { role: "edge" } },
    daemonSet: { nodeSelector: { role: "worker" } },
    pod: null,
    expected: { state: "excluded" },
  },
  {
    name: "precedence: not-scheduled before pending (a failed pod is replaced, not waited for)",
    pod: { phase: "Failed", ready: null, scheduled: { status: "False", reason: "Unschedulable" } },
    expected: { state: "not-scheduled" },
  },
  {
    name: "precedence: pending before crash-looping",
    pod: { phase: "Pending", ready: notReady, containerStatuses: [crashing] },
    expected: {
      state: "pending",
      details: { podName: "sensor-abcde", restartCount: 5, waitingReason: "CrashLoopBackOff" },
    },
  },
  {
    name: "precedence: crash-looping before starting",
    pod: {
      ready: notReady,
      containerStatuses: [crashing, runningContainer({ name: "helper", ready: false })],
    },
    expected: { state: "crash-looping" },
  },
  {
    name: "precedence: starting before silent (Ready for less than three intervals)",
    pod: { ready: { status: "True", lastTransitionTime: at(-29) } },
    expected: { state: "starting" },
  },
  {
    name: "precedence: silent before covered (a report of three intervals ago no longer covers)",
    lastReport: report(-31),
    expected: { state: "silent" },
  },
];

describe("nodeCoverage", () => {
  // Precedence, first match wins (each adjacent pair has a "precedence:" case above):
  //   unreachable > node-not-ready > excluded > not-scheduled > pending
  //   > crash-looping > starting > silent > covered
  it("lists the vocabulary in order of precedence", () => {
    expect(COVERAGE_STATES).toEqual([
      "unreachable",
      "node-not-ready",
      "excluded",
      "not-scheduled",
      "pending",
      "crash-looping",
      "starting",
      "silent",
      "covered",
    ]);
  });

  it("covers every word of the vocabulary", () => {
    const seen = new Set(cases.map((c) => c.expected.state));
    expect([...COVERAGE_STATES].filter((state) => !seen.has(state))).toEqual([]);
  });

  it.each(cases)("$name", (c) => {
    expect(judge(c)).toMatchObject(c.expected);
  });

  // The reason is read in tables, the API and the live feed: words only. Times are data
  // (since, details.lastReportAt), which the dashboard renders in the reader's terms.
  it.each(cases)("its reason holds no raw timestamp: $name", (c) => {
    expect(judge(c).reason).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it.each(cases)("recomputing with its own verdict changes nothing: $name", (c) => {
    const first = judge(c);
    expect(judge({ ...c, previous: first })).toEqual(first);
  });
});

describe("nodeCoverage: since", () => {
  const covered = (since: string, podName = "sensor-abcde"): NodeCoverage => ({
    state: "covered",
    reason: "…",
    since,
    shouldRun: true,
    changesAt: null,
    stale: false,
    details: { podName },
  });

  it("keeps the previous since while the state and the pod stay", () => {
    expect(
      judge({ name: "", lastReport: report(-5), previous: covered(at(-5000)), expected: {} }).since,
    ).toBe(at(-5000));
  });

  it("starts again for another pod", () => {
    expect(
      judge({ name: "", lastReport: report(-5), previous: covered(at(-5000), "sensor-old"), expected: {} })
        .since,
    ).toBe(at(-5));
  });

  it("keeps a node's state across pods coming and going", () => {
    const previous: NodeCoverage = { ...covered(at(-5000), "sensor-old"), state: "excluded" };
    const excluded = judge({
      name: "",
      node: { taints: [{ key: "dedicated", effect: "NoSchedule" }] },
      previous,
      expected: {},
    });
    expect(excluded).toMatchObject({
      state: "excluded",
      since: at(-5000),
      details: { podName: "sensor-abcde" },
    });
  });

  it("starts again when the state changes", () => {
    const silent = judge({ name: "", lastReport: report(-100), previous: covered(at(-5000)), expected: {} });
    expect(silent).toMatchObject({ state: "silent", since: at(-70) });
  });

  it("takes the exact time of node-not-ready and silent over a previous since", () => {
    const previous: NodeCoverage = { ...covered(at(-5000)), state: "silent" };
    expect(judge({ name: "", lastReport: report(-100), previous, expected: {} }).since).toBe(at(-70));
  });

  it("keeps the unreachable since across recomputations without its start", () => {
    const first = judge({
      name: "",
      clusterReachable: false,
      clusterUnreachableSince: at(-60),
      expected: {},
    });
    const again = judge({ name: "", clusterReachable: false, previous: first, expected: {} });
    expect(again).toEqual(first);
  });

  it("never lies in the future of now", () => {
    const c = judge({
      name: "",
      node: { ready: { status: "False", lastTransitionTime: at(120) } },
      expected: {},
    });
    expect(c.since).toBe(T0);
  });

  it("moves from starting to covered to silent as reports come and stop", () => {
    const base = { node: makeNode(), daemonSet: makeDaemonSet(), clusterReachable: true };
    const pod = makePod({ ready: { status: "True", lastTransitionTime: at(0) } });
    const step = (seconds: number, lastReport: AgentReportSeen | null, previous: NodeCoverage | null) =>
      nodeCoverage({ ...base, pod, lastReport, previous, now: new Date(at(seconds)) });
    const starting = step(5, null, null);
    expect(starting).toMatchObject({ state: "starting", since: at(0), changesAt: at(30) });
    const covered = step(8, report(8), starting);
    expect(covered).toMatchObject({ state: "covered", since: at(8), changesAt: at(38) });
    const stillCovered = step(20, report(18), covered);
    expect(stillCovered).toMatchObject({ state: "covered", since: at(8), changesAt: at(48) });
    const silent = step(60, report(18), stillCovered);
    expect(silent).toMatchObject({ state: "silent", since: at(48), changesAt: null });
  });

  it("rejects an invalid clock", () => {
    expect(() =>
      nodeCoverage({
        node: makeNode(),
        daemonSet: makeDaemonSet(),
        pod: null,
        lastReport: null,
        clusterReachable: true,
        now: new Date("not a date"),
      }),
    ).toThrow(/now must be a valid date/);
  });
});

describe("selectDaemonPod", () => {
  const daemonSet = makeDaemonSet();
  it.each([
    {
      name: "only this DaemonSet's pods",
      pods: [
        makePod({ name: "other-1", daemonSet: "other" }),
        makePod({ name: "s-1", namespace: "kube-system" }),
      ],
      expected: null,
    },
    {
      name: "a live pod before one being deleted",
      pods: [makePod({ name: "s-old", deletedAt: at(-1) }), makePod({ name: "s-new", ready: notReady })],
      expected: "s-new",
    },
    {
      name: "a Ready pod before a newer one that is not",
      pods: [makePod({ name: "s-old" }), makePod({ name: "s-new", createdAt: at(-5), ready: notReady })],
      expected: "s-old",
    },
    {
      name: "the newest of two Ready pods",
      pods: [makePod({ name: "s-old" }), makePod({ name: "s-new", createdAt: at(-5) })],
      expected: "s-new",
    },
    {
      name: "a running pod before a failed one",
      pods: [
        makePod({ name: "s-failed", phase: "Failed", createdAt: at(-1) }),
        makePod({ name: "s-ok", ready: notReady }),
      ],
      expected: "s-ok",
    },
  ])("$name", ({ pods, expected }) => {
    expect(selectDaemonPod({ daemonSet, pods })?.name ?? null).toBe(expected);
  });
});
