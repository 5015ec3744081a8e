// How the dashboard names and colours a rollout's states: one place for the list, the detail
// page and the cluster page.
import type { RouterOutputs } from "@/lib/trpc";

export type Rollout = RouterOutputs["rollouts"]["get"];
export type RolloutSummary = RouterOutputs["rollouts"]["list"]["items"][number];
export type RolloutStatus = Rollout["status"];
export type RolloutClusterStatus = Rollout["clusters"][number]["status"];

const ROLLOUT_STATUS: Record<RolloutStatus, { label: string; color: string }> = {
  pending: { label: "Pending", color: "gray" },
  running: { label: "Running", color: "blue" },
  paused: { label: "Paused", color: "yellow" },
  aborting: { label: "Aborting", color: "orange" },
  succeeded: { label: "Succeeded", color: "teal" },
  failed: { label: "Failed", color: "red" },
  "rolled-back": { label: "Rolled back", color: "orange" },
  aborted: { label: "Aborted", color: "gray" },
};

const CLUSTER_STATUS: Record<RolloutClusterStatus, { label: string; color: string }> = {
  pending: { label: "Waiting", color: "gray" },
  applying: { label: "Applying", color: "blue" },
  gating: { label: "Health gate", color: "cyan" },
  succeeded: { label: "Done", color: "teal" },
  "rolling-back": { label: "Rolling back", color: "orange" },
  "rolled-back": { label: "Rolled back", color: "orange" },
  failed: { label: "Failed", color: "red" },
  skipped: { label: "Skipped", color: "gray" },
};

export function rolloutStatus(status: RolloutStatus) {
  return ROLLOUT_STATUS[status];
}

export function clusterStatus(status: RolloutClusterStatus) {
  return CLUSTER_STATUS[status];
}

const STOPPING: readonly RolloutStatus[] = ["aborting", "aborted", "failed", "rolled-back"];

/**
 * A cluster's badge within its rollout: a cluster still waiting in a rollout
 * that is being aborted (or has stopped) will not start, and reads so rather
 * than "Waiting".
 */
export function clusterStatusIn(rollout: RolloutStatus, status: RolloutClusterStatus) {
  if (status === "pending" && STOPPING.includes(rollout)) return { label: "Not started", color: "gray" };
  return CLUSTER_STATUS[status];
}

/** The line under a cluster that has not started: why it waits, or that it never will. */
export function pendingClusterLine(rollout: RolloutStatus): string {
  if (rollout === "aborting" || rollout === "aborted") return "Not started: the rollout was aborted.";
  if (STOPPING.includes(rollout)) return "Not started: the rollout stopped before this cluster.";
  if (rollout === "paused") return "Waits until the rollout is resumed.";
  return "Waits for the clusters before it to pass their health gate.";
}

/** The title over the rollout's recorded reason. */
export function rolloutReasonTitle(status: RolloutStatus): string {
  if (status === "rolled-back" || status === "failed") return "Why it was stopped";
  if (status === "aborting" || status === "aborted") return "Aborted";
  if (status === "paused") return "Paused";
  return "Note";
}

/** Still in the leader's hands: pause, resume or abort apply. */
export function isActive(status: RolloutStatus): boolean {
  return status === "pending" || status === "running" || status === "paused" || status === "aborting";
}

/** The actions an operator may take on a rollout in this state. */
export function rolloutActions(status: RolloutStatus): { pause: boolean; resume: boolean; abort: boolean } {
  return {
    pause: status === "pending" || status === "running",
    resume: status === "paused",
    abort: status === "pending" || status === "running" || status === "paused",
  };
}

/** "Canary", "Wave 1", "Wave 2"…: the server numbers the canary clusters' wave 0 and the others from 1. */
export function waveLabel(wave: number): string {
  return wave === 0 ? "Canary" : `Wave ${wave}`;
}

/** "3 of 5": clusters that ended, of all. */
export function clustersDone(clusters: readonly { status: RolloutClusterStatus }[]): number {
  return clusters.filter((c) => !["pending", "applying", "gating", "rolling-back"].includes(c.status)).length;
}

/** Its colour: an abort is someone's decision, not a failure; red is for what went wrong. */
export function rolloutReasonColor(status: RolloutStatus): string {
  if (status === "paused") return "yellow";
  if (status === "succeeded") return "teal";
  if (status === "aborting" || status === "aborted") return "gray";
  return "red";
}

/** A cluster's reason: grey when it only says the rollout was aborted (rolled back or not started for it). */
export function clusterReasonColor(rollout: RolloutStatus, status: RolloutClusterStatus): string {
  if (status === "succeeded") return "teal";
  const aborted = rollout === "aborting" || rollout === "aborted";
  if (aborted && (status === "rolling-back" || status === "rolled-back" || status === "skipped"))
    return "gray";
  return "red";
}
