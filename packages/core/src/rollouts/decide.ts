// What a rollout needs next, decided from its persisted state, what the
// leader observes in each cluster being changed, and the time: pure, so each
// case is a row of a table (decide.test.ts). The runner (runner.ts) does the
// I/O around it, one step at a time, persisting each.
//
// Canary clusters (wave 0) first, then the waves in order; the clusters of a
// wave change together. After its change each cluster passes the health gate
// (gate.ts) or is rolled back to the template from before; a rolled-back or
// failed cluster stops the waves after it. Pause stops new clusters from
// starting (those under way finish their gate); abort rolls back the
// clusters under way and starts none. Clusters that passed keep the change.

import type { RolloutProgress } from "@tapfleet/kube";
import type { GateVerdict } from "./gate.ts";
import {
  FINAL_CLUSTER_STATUSES,
  IN_FLIGHT_CLUSTER_STATUSES,
  type RolloutClusterStatus,
  type RolloutStatus,
} from "./schema.ts";

export interface RolloutClusterState {
  clusterId: string;
  wave: number;
  status: RolloutClusterStatus;
  /** The gate's deadline while gating; the rollback's while rolling back. */
  deadline: Date | null;
  reason: string | null;
}

export interface RolloutState {
  status: RolloutStatus;
  /** The rollout's recorded reason; while aborting, who aborted it ("aborted by Ada"), which the clusters rolled back repeat. */
  reason?: string | null;
  /** In rollout order. */
  clusters: readonly RolloutClusterState[];
}

/** What the leader sees of a cluster under way. */
export type ObservedCluster =
  | { reachable: false; error: string }
  | { reachable: true; daemonSet: null }
  | {
      reachable: true;
      daemonSet: {
        /** Which of the rollout's two templates the DaemonSet carries now. */
        template: "target" | "before" | "other";
        rollout: RolloutProgress;
      };
      /** The gate's verdict (gate.ts), while the cluster is gating. */
      gate: GateVerdict | null;
    };

export type FinishedRolloutStatus = "succeeded" | "failed" | "rolled-back" | "aborted";

export type RolloutStep =
  /** Record the pod template before the change and the health baseline; the cluster becomes `applying`. */
  | { kind: "start-cluster"; clusterId: string }
  /** Write the target template (or the one from before) to the cluster's DaemonSet. */
  | { kind: "patch"; clusterId: string; to: "target" | "before" }
  /** Record a cluster's new status; `gate`: the change is in place, start the gate's clock now. */
  | {
      kind: "record-cluster";
      clusterId: string;
      status: RolloutClusterStatus;
      reason?: string;
      gate?: boolean;
    }
  | { kind: "record-rollout"; status: "running" }
  /** The rollout is over: clusters still pending are skipped. A null reason keeps the one recorded. */
  | { kind: "finish"; status: FinishedRolloutStatus; reason: string | null }
  /** Nothing to do until something changes, or until `until` at the latest. */
  | { kind: "wait"; until: Date | null };

const isFinal = (status: RolloutClusterStatus) => FINAL_CLUSTER_STATUSES.includes(status);
const isInFlight = (status: RolloutClusterStatus) => IN_FLIGHT_CLUSTER_STATUSES.includes(status);
const TERMINAL: readonly RolloutStatus[] = ["succeeded", "failed", "rolled-back", "aborted"];

/** The step for one cluster under way, or null when it waits. */
function stepForCluster(
  cluster: RolloutClusterState,
  observed: ObservedCluster | undefined,
  /** The abort's reason when the rollout is aborting, else null. */
  aborting: string | null,
  now: Date,
): RolloutStep | null {
  const { clusterId } = cluster;
  const pastDeadline = cluster.deadline !== null && now.getTime() >= cluster.deadline.getTime();
  if (cluster.status !== "rolling-back" && aborting !== null)
    return { kind: "record-cluster", clusterId, status: "rolling-back", reason: aborting };
  if (observed === undefined) return null;
  if (!observed.reachable) {
    if (!pastDeadline) return null;
    return cluster.status === "rolling-back"
      ? {
          kind: "record-cluster",
          clusterId,
          status: "failed",
          reason: `could not reach the cluster to roll back: ${observed.error}`,
        }
      : cluster.status === "gating"
        ? {
            kind: "record-cluster",
            clusterId,
            status: "rolling-back",
            reason: `the cluster did not answer: ${observed.error}`,
          }
        : null;
  }
  if (observed.daemonSet === null)
    return {
      kind: "record-cluster",
      clusterId,
      status: "failed",
      reason:
        cluster.status === "rolling-back"
          ? "the DaemonSet is gone; nothing to roll back"
          : "the sensor DaemonSet is gone",
    };
  const { template, rollout } = observed.daemonSet;
  switch (cluster.status) {
    case "applying":
      if (template !== "target") return { kind: "patch", clusterId, to: "target" };
      return { kind: "record-cluster", clusterId, status: "gating", gate: true };
    case "gating": {
      if (template !== "target")
        return {
          kind: "record-cluster",
          clusterId,
          status: "rolling-back",
          reason: "the DaemonSet's template was changed outside the rollout",
        };
      const gate = observed.gate;
      if (gate?.verdict === "pass") return { kind: "record-cluster", clusterId, status: "succeeded" };
      if (gate?.verdict === "fail")
        return { kind: "record-cluster", clusterId, status: "rolling-back", reason: gate.reason };
      return null;
    }
    case "rolling-back":
      if (template !== "before") return { kind: "patch", clusterId, to: "before" };
      if (rollout.complete) return { kind: "record-cluster", clusterId, status: "rolled-back" };
      if (pastDeadline)
        return {
          kind: "record-cluster",
          clusterId,
          status: "rolled-back",
          reason: `${cluster.reason ?? "rolled back"}; the previous template is back, but not every pod was available again in time (${rollout.available} of ${rollout.desired})`,
        };
      return null;
    default:
      return null;
  }
}

/**
 * Every step that can be taken now: one per cluster under way that needs one,
 * and the start of each cluster of the current wave; when there is none, the
 * one step of the rollout itself (start, finish) or what it waits for. The
 * steps of different clusters are independent, so the runner may take them
 * together.
 */
export function nextRolloutSteps(
  state: RolloutState,
  observed: Readonly<Record<string, ObservedCluster>>,
  now: Date,
): RolloutStep[] {
  if (TERMINAL.includes(state.status)) return [{ kind: "wait", until: null }];
  if (state.status === "pending") return [{ kind: "record-rollout", status: "running" }];
  const aborting = state.status === "aborting";
  const abortReason = aborting ? (state.reason ?? "aborted") : null;

  const steps: RolloutStep[] = [];
  for (const cluster of state.clusters) {
    if (!isInFlight(cluster.status)) continue;
    const step = stepForCluster(cluster, observed[cluster.clusterId], abortReason, now);
    if (step) steps.push(step);
  }

  const broken = state.clusters.filter((c) => c.status === "rolled-back" || c.status === "failed");
  const open = state.clusters.filter((c) => !isFinal(c.status));
  const currentWave = Math.min(...open.map((c) => c.wave));
  if (state.status === "running" && broken.length === 0)
    for (const cluster of open)
      if (cluster.status === "pending" && cluster.wave === currentWave)
        steps.push({ kind: "start-cluster", clusterId: cluster.clusterId });
  if (steps.length > 0) return steps;

  const inFlight = state.clusters.filter((c) => isInFlight(c.status));
  if (inFlight.length > 0) {
    const deadlines = inFlight
      .map((c) => c.deadline?.getTime())
      .filter((t): t is number => t !== undefined && t > now.getTime());
    return [{ kind: "wait", until: deadlines.length > 0 ? new Date(Math.min(...deadlines)) : null }];
  }

  if (aborting) return [{ kind: "finish", status: "aborted", reason: null }];
  if (broken.length > 0) {
    const first = broken[0]!;
    return [
      {
        kind: "finish",
        status: broken.some((c) => c.status === "failed") ? "failed" : "rolled-back",
        reason: `${first.clusterId}: ${first.reason ?? first.status}`,
      },
    ];
  }
  if (open.length === 0) return [{ kind: "finish", status: "succeeded", reason: null }];
  // Paused between clusters.
  return [{ kind: "wait", until: null }];
}

/** The first of nextRolloutSteps: what a runner taking one step at a time does next. */
export function nextRolloutStep(
  state: RolloutState,
  observed: Readonly<Record<string, ObservedCluster>>,
  now: Date,
): RolloutStep {
  return nextRolloutSteps(state, observed, now)[0]!;
}
