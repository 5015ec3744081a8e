// Coverage of one node by one sensor DaemonSet: one state from a fixed
// vocabulary, a sentence saying why, and since when. Pure: the clock and the
// previous verdict are inputs, so `since` survives recomputation.

import { sensorReportingState } from "../sensors/status.ts";
import { nodeShouldRunDaemonSet } from "./placement.ts";
import type {
  AgentReportSeen,
  InventoryContainerStatus,
  InventoryDaemonSet,
  InventoryNode,
  InventoryPod,
} from "./types.ts";

/**
 * The coverage vocabulary, in order of precedence: the first state whose
 * condition holds is the node's state.
 *
 * | # | state          | when                                                                                   | since                                    |
 * |---|----------------|----------------------------------------------------------------------------------------|------------------------------------------|
 * | 1 | unreachable    | the cluster's API is lost; the last known verdict is kept in `lastKnown`, `stale`      | when the cluster became unreachable      |
 * | 2 | node-not-ready | the node's Ready condition is not True (False, Unknown or missing)                     | the condition's lastTransitionTime       |
 * | 3 | excluded       | the DaemonSet should not run here (nodeName, nodeSelector, affinity, taints)          | first seen so                            |
 * | 4 | not-scheduled  | it should, but the node has no pod of it (or only a Failed/Succeeded one)              | first seen so                            |
 * | 5 | pending        | the pod is Pending or unschedulable (the scheduler's or kubelet's reason)              | the pod's creation                       |
 * | 6 | crash-looping  | a container waits in CrashLoopBackOff, or the pod is not Ready after its restart count | the pod's Ready condition transition     |
 * |   |                | grew with a terminated last state (it stays so until the pod is Ready again)           |                                          |
 * | 7 | starting       | the pod runs but is not Ready, or is Ready without a report since, for less than       | the container's start, or Ready          |
 * |   |                | three report intervals                                                                 |                                          |
 * | 8 | silent         | Ready, and three report intervals passed without a report (sensorReportingState)       | the last report (or Ready) + 3 intervals |
 * | 9 | covered        | Ready, and the agent reported within three report intervals                            | the report after Ready                   |
 *
 * A state that continues (same state, same pod) keeps the previous verdict's
 * `since`; only node-not-ready, silent and unreachable take their exact time
 * from the data every time. `since` is never after `now`.
 */
export const COVERAGE_STATES = [
  "unreachable",
  "node-not-ready",
  "excluded",
  "not-scheduled",
  "pending",
  "crash-looping",
  "starting",
  "silent",
  "covered",
] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

/**
 * The states by severity, problems first: how the nodes tables sort by state and the order the
 * dashboard lists states in. The database ranks rows by it (InventoryCoverage.stateRank, generated
 * in the nodes_sort_indexes migration; a test checks both agree).
 */
export const COVERAGE_STATE_SEVERITY = [
  "crash-looping",
  "silent",
  "unreachable",
  "pending",
  "not-scheduled",
  "node-not-ready",
  "starting",
  "covered",
  "excluded",
] as const satisfies readonly CoverageState[];

export interface CoverageDetails {
  /** The pod judged (absent for node-level states without a pod). */
  podName?: string;
  /** The pod's restarts, summed over its containers: the next verdict compares with it. */
  restartCount?: number;
  /** crash-looping: the container and its last termination. */
  container?: string;
  lastTerminationReason?: string;
  lastTerminationMessage?: string;
  lastExitCode?: number;
  /** pending: the scheduler's or kubelet's reason. */
  waitingReason?: string;
  /** The joined report, if any. */
  lastReportAt?: string;
  /** The report interval the verdict used. */
  reportIntervalSeconds?: number;
  /** unreachable: the verdict from before the cluster was lost. */
  lastKnown?: { state: CoverageState; reason: string; since: string };
}

export interface NodeCoverage {
  state: CoverageState;
  /** A sentence for a person: what is wrong (or right) and what Kubernetes said. */
  reason: string;
  /** ISO timestamp: when this state began. */
  since: string;
  /** Whether the node should run the DaemonSet's pod: the nodes coverage % counts. */
  shouldRun: boolean;
  /** Only time changes the verdict at this ISO timestamp (covered or starting turn silent); null otherwise. */
  changesAt: string | null;
  /** True when the verdict rests on data from a cluster that is no longer reachable. */
  stale: boolean;
  details?: CoverageDetails;
}

/** The states that judge a pod rather than the node: their `since` belongs to that pod. */
const POD_STATES: ReadonlySet<CoverageState> = new Set([
  "pending",
  "crash-looping",
  "starting",
  "silent",
  "covered",
]);

// ---------------------------------------------------------------------------
// Helpers

const iso = (ms: number): string => new Date(ms).toISOString();

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Joins Kubernetes' reason and message with ": ", without their final periods (the caller ends the sentence). */
const sentence = (...parts: (string | undefined)[]): string =>
  parts
    .map((part) => part?.trim().replace(/\.+$/, ""))
    .filter((part) => part !== undefined && part !== "")
    .join(": ");

function totalRestarts(pod: InventoryPod): number {
  return pod.containerStatuses.reduce((sum, status) => sum + status.restartCount, 0);
}

function isPodReady(pod: InventoryPod): boolean {
  return pod.ready?.status === "True";
}

/**
 * The pod of `daemonSet` that speaks for the node when there are several (a
 * surge during a rolling update): not being deleted, not finished, Ready,
 * newest, then by name.
 */
export function selectDaemonPod(options: {
  daemonSet: Pick<InventoryDaemonSet, "namespace" | "name">;
  pods: Iterable<InventoryPod>;
}): InventoryPod | null {
  const own = [...options.pods].filter(
    (pod) => pod.daemonSet === options.daemonSet.name && pod.namespace === options.daemonSet.namespace,
  );
  const rank = (pod: InventoryPod): number[] => [
    pod.deletedAt === undefined ? 0 : 1,
    pod.phase === "Failed" || pod.phase === "Succeeded" ? 1 : 0,
    isPodReady(pod) ? 0 : 1,
  ];
  own.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  return own[0] ?? null;
}

interface Verdict {
  state: CoverageState;
  reason: string;
  /** The state's start as the data tells it, if it does. */
  derivedSince?: number;
  /** The data's time is exact and wins over the previous verdict's `since`. */
  exact?: boolean;
  changesAt?: number;
  details?: CoverageDetails;
}

function describeTermination(container: InventoryContainerStatus): string {
  const terminated = container.state.terminated ?? container.lastState.terminated;
  if (!terminated) return "";
  return sentence(
    `${terminated.reason ?? "Terminated"} (exit code ${terminated.exitCode})`,
    terminated.message,
  );
}

/** Crash-looping per the precedence table, or undefined. */
function crashLoop(
  pod: InventoryPod,
  previous: NodeCoverage | null | undefined,
  restarts: number,
): Verdict | undefined {
  const samePod = previous?.details?.podName === pod.name;
  const backingOff = pod.containerStatuses.find((c) => c.state.waiting?.reason === "CrashLoopBackOff");
  const restarted = pod.containerStatuses.find(
    (c) => c.restartCount > 0 && (c.lastState.terminated !== undefined || c.state.terminated !== undefined),
  );
  const grew =
    restarted !== undefined &&
    !isPodReady(pod) &&
    (!samePod ||
      previous?.state === "crash-looping" ||
      restarts > (previous?.details?.restartCount ?? Number.POSITIVE_INFINITY));
  const container = backingOff ?? (grew ? restarted : undefined);
  if (!container) return undefined;
  const terminated = container.lastState.terminated ?? container.state.terminated;
  const restartsText = `restarted ${container.restartCount} time${container.restartCount === 1 ? "" : "s"}`;
  const last = describeTermination(container);
  return {
    state: "crash-looping",
    reason: `Container ${container.name} of pod ${pod.name} keeps crashing: ${restartsText}${
      last ? `; last exit ${last}` : ""
    }.`,
    derivedSince: pod.ready?.status === "False" ? parseTime(pod.ready.lastTransitionTime) : undefined,
    details: {
      podName: pod.name,
      restartCount: restarts,
      container: container.name,
      ...(terminated?.reason === undefined ? {} : { lastTerminationReason: terminated.reason }),
      ...(terminated?.message === undefined ? {} : { lastTerminationMessage: terminated.message }),
      ...(terminated === undefined ? {} : { lastExitCode: terminated.exitCode }),
    },
  };
}

function podVerdict(options: {
  daemonSet: InventoryDaemonSet;
  node: InventoryNode;
  pod: InventoryPod;
  lastReport: AgentReportSeen | null | undefined;
  previous: NodeCoverage | null | undefined;
  now: number;
}): Verdict {
  const { pod, previous, now } = options;
  const restarts = totalRestarts(pod);
  const base: CoverageDetails = { podName: pod.name, restartCount: restarts };

  if (pod.phase === "Failed" || pod.phase === "Succeeded")
    return {
      state: "not-scheduled",
      reason: `Pod ${pod.name} ${pod.phase === "Failed" ? "failed" : "exited"}${
        pod.reason ? ` (${sentence(pod.reason, pod.message)})` : ""
      }; the DaemonSet controller replaces it.`,
      details: base,
    };

  if (pod.scheduled?.status === "False" || pod.phase === "Pending" || pod.phase === "Unknown") {
    const waiting = pod.containerStatuses.find((c) => c.state.waiting?.reason !== undefined);
    let reason: string;
    let waitingReason: string | undefined;
    if (pod.scheduled?.status === "False") {
      waitingReason = pod.scheduled.reason;
      reason = `Pod ${pod.name} cannot be scheduled: ${sentence(pod.scheduled.reason ?? "Unschedulable", pod.scheduled.message)}.`;
    } else if (pod.phase === "Unknown") {
      waitingReason = pod.reason;
      reason = `Pod ${pod.name} is in phase Unknown: ${sentence(pod.message ?? "its node stopped reporting it")}.`;
    } else if (waiting) {
      waitingReason = waiting.state.waiting!.reason;
      reason = `Pod ${pod.name} is waiting for container ${waiting.name}: ${sentence(
        waitingReason,
        waiting.state.waiting!.message,
      )}.`;
    } else {
      reason = `Pod ${pod.name} is pending${pod.reason ? `: ${sentence(pod.reason, pod.message)}` : ""}.`;
    }
    return {
      state: "pending",
      reason,
      derivedSince: parseTime(pod.createdAt),
      details: { ...base, ...(waitingReason === undefined ? {} : { waitingReason }) },
    };
  }

  const crash = crashLoop(pod, previous, restarts);
  if (crash) return crash;

  // A report counts only for this pod on this node (reports join by node and pod name).
  const report =
    options.lastReport &&
    options.lastReport.podName === pod.name &&
    options.lastReport.nodeName === options.node.name
      ? options.lastReport
      : undefined;
  const reportIntervalSeconds = report?.reportIntervalSeconds ?? options.daemonSet.reportIntervalSeconds;
  const reportAt = parseTime(report?.receivedAt);

  if (!isPodReady(pod)) {
    const notReady = pod.containerStatuses.filter((c) => !c.ready).map((c) => c.name);
    const startedAt = pod.containerStatuses
      .map((c) => parseTime(c.state.running?.startedAt))
      .filter((t) => t !== undefined);
    return {
      state: "starting",
      reason: `Pod ${pod.name} is running but not ready${
        notReady.length > 0 ? ` (waiting for ${notReady.join(", ")})` : ""
      }.`,
      derivedSince: startedAt.length > 0 ? Math.max(...startedAt) : parseTime(pod.createdAt),
      details: base,
    };
  }

  const interval = { reportIntervalSeconds };
  const withReport: CoverageDetails = {
    ...base,
    ...(report ? { lastReportAt: report.receivedAt } : {}),
    ...(reportIntervalSeconds === null ? {} : { reportIntervalSeconds }),
  };
  if (report && reportAt !== undefined) {
    const status = sensorReportingState({ lastSeenAt: new Date(reportAt), ...interval, now: new Date(now) });
    if (status.state === "reporting") {
      const readyAt = parseTime(pod.ready?.lastTransitionTime);
      return {
        state: "covered",
        reason: `Pod ${pod.name} is ready and its agent is reporting.`,
        derivedSince: readyAt === undefined ? reportAt : Math.max(readyAt, reportAt),
        changesAt: status.silentAt.getTime(),
        details: withReport,
      };
    }
  }
  // No report within three intervals. Reporting is due from the later of the
  // last report and the pod turning Ready; the one rule says when it is silent.
  const readyAt = parseTime(pod.ready?.lastTransitionTime) ?? parseTime(pod.createdAt) ?? now;
  const dueFrom = Math.max(readyAt, reportAt ?? Number.NEGATIVE_INFINITY);
  const status = sensorReportingState({ lastSeenAt: new Date(dueFrom), ...interval, now: new Date(now) });
  if (status.state === "reporting")
    return {
      state: "starting",
      reason: `Pod ${pod.name} is ready; waiting for its agent's first report.`,
      derivedSince: readyAt,
      changesAt: status.silentAt.getTime(),
      details: withReport,
    };
  return {
    state: "silent",
    reason: report
      ? `Pod ${pod.name} is ready but its agent stopped reporting.`
      : `Pod ${pod.name} is ready but its agent has never reported.`,
    derivedSince: status.silentAt.getTime(),
    exact: true,
    details: withReport,
  };
}

function judge(options: {
  node: InventoryNode;
  daemonSet: InventoryDaemonSet;
  pod: InventoryPod | null;
  lastReport: AgentReportSeen | null | undefined;
  previous: NodeCoverage | null | undefined;
  now: number;
}): Verdict & { shouldRun: boolean } {
  const { node, daemonSet, pod } = options;
  const placement = nodeShouldRunDaemonSet({ node, daemonSet });
  const shouldRun = placement.shouldRun;
  if (node.ready?.status !== "True") {
    const condition = node.ready;
    const reason =
      condition === null
        ? "Node has not reported whether it is ready."
        : condition.status === "Unknown"
          ? `Node stopped reporting its status${
              condition.reason || condition.message
                ? ` (${sentence(condition.reason, condition.message)})`
                : ""
            }.`
          : `Node is not ready${
              condition.reason || condition.message
                ? `: ${sentence(condition.reason, condition.message)}`
                : ""
            }.`;
    return {
      state: "node-not-ready",
      reason,
      derivedSince: parseTime(condition?.lastTransitionTime),
      exact: true,
      shouldRun,
      ...(pod ? { details: { podName: pod.name } } : {}),
    };
  }
  if (!placement.shouldRun)
    return {
      state: "excluded",
      reason: placement.reason,
      shouldRun,
      ...(pod ? { details: { podName: pod.name } } : {}),
    };
  if (!pod)
    return {
      state: "not-scheduled",
      reason: `The DaemonSet ${daemonSet.namespace}/${daemonSet.name} should run a pod on this node, but it has none yet; see the DaemonSet's events for why.`,
      shouldRun,
    };
  return { ...podVerdict({ ...options, pod }), shouldRun };
}

function finish(
  verdict: Verdict & { shouldRun: boolean },
  previous: NodeCoverage | null | undefined,
  now: number,
  stale: boolean,
): NodeCoverage {
  // A pod's state continues only for the same pod; a node's state whatever pod comes and goes.
  const continues =
    previous !== null &&
    previous !== undefined &&
    previous.state === verdict.state &&
    (!POD_STATES.has(verdict.state) || previous.details?.podName === verdict.details?.podName);
  const previousSince = continues ? parseTime(previous.since) : undefined;
  const since =
    verdict.exact && verdict.derivedSince !== undefined
      ? verdict.derivedSince
      : (previousSince ?? verdict.derivedSince ?? now);
  return {
    state: verdict.state,
    reason: verdict.reason,
    since: iso(Math.min(since, now)),
    shouldRun: verdict.shouldRun,
    changesAt: verdict.changesAt === undefined ? null : iso(verdict.changesAt),
    stale,
    ...(verdict.details ? { details: verdict.details } : {}),
  };
}

/**
 * The coverage of `node` by `daemonSet`, given the DaemonSet's pod on that node
 * (see selectDaemonPod), the newest report of that pod's agent, and the
 * previous verdict for the same node and DaemonSet (null the first time).
 */
export function nodeCoverage(options: {
  node: InventoryNode;
  daemonSet: InventoryDaemonSet;
  pod: InventoryPod | null;
  lastReport: AgentReportSeen | null;
  clusterReachable: boolean;
  /** ISO timestamp: when the cluster became unreachable, if known. */
  clusterUnreachableSince?: string;
  previous?: NodeCoverage | null;
  now: Date;
}): NodeCoverage {
  const now = options.now.getTime();
  if (!Number.isFinite(now)) throw new RangeError("nodeCoverage: now must be a valid date");
  const previous = options.previous ?? null;
  if (options.clusterReachable) return finish(judge({ ...options, previous, now }), previous, now, false);

  // The cluster is lost: keep the last known verdict (or judge the last known
  // objects when there is none) and mark it stale.
  const lastKnown =
    previous?.state === "unreachable"
      ? (previous.details?.lastKnown ?? null)
      : previous
        ? { state: previous.state, reason: previous.reason, since: previous.since }
        : (() => {
            const judged = finish(judge({ ...options, previous: null, now }), null, now, true);
            return { state: judged.state, reason: judged.reason, since: judged.since };
          })();
  const shouldRun =
    previous?.shouldRun ??
    nodeShouldRunDaemonSet({ node: options.node, daemonSet: options.daemonSet }).shouldRun;
  const unreachableSince = parseTime(options.clusterUnreachableSince);
  return finish(
    {
      state: "unreachable",
      reason: `The cluster's API cannot be reached; last known: ${lastKnown ? `${lastKnown.state} — ${lastKnown.reason}` : "nothing."}`,
      derivedSince: unreachableSince,
      exact: unreachableSince !== undefined,
      shouldRun,
      ...(lastKnown ? { details: { lastKnown } } : {}),
    },
    previous,
    now,
    true,
  );
}
