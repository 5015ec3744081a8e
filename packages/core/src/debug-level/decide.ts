// What a debug level needs next, decided from its persisted state, the
// DaemonSet as observed and the time: pure, so each case is a row of a table
// (decide.test.ts). The runner (runner.ts) does the I/O around it.

import type { RolloutProgress } from "@tapfleet/kube";

export const DEBUG_LEVEL_STATUSES = ["applying", "active", "reverting", "reverted", "failed"] as const;
export type DebugLevelStatus = (typeof DEBUG_LEVEL_STATUSES)[number];

/** Still in the leader's hands: a level being applied, held, or put back. */
export const PENDING_DEBUG_LEVEL_STATUSES: readonly DebugLevelStatus[] = ["applying", "active", "reverting"];

export interface DebugLevelState {
  level: number;
  /** The variable's value before the first change; null when it was absent. */
  previousLevel: string | null;
  revertsAt: Date;
  status: DebugLevelStatus;
}

export type ObservedDebugDaemonSet =
  | { found: false }
  | {
      found: true;
      /** The capture container's value of the variable: null when absent, undefined when there is no capture container. */
      value: string | null | undefined;
      rollout: RolloutProgress;
    };

export type DebugLevelStep =
  /** Patch the template's variable (null removes it); the state becomes `status`. */
  | { kind: "patch"; value: string | null; status: "applying" | "reverting" }
  /** Record a new status (with the reason of a failure or of a revert with nothing to put back). */
  | { kind: "record"; status: DebugLevelStatus; error?: string }
  /** Nothing to do until the DaemonSet changes, or until `until` at the latest. */
  | { kind: "wait"; until: Date | null };

export function nextDebugLevelStep(
  state: DebugLevelState,
  observed: ObservedDebugDaemonSet,
  now: Date,
): DebugLevelStep {
  if (state.status === "reverted" || state.status === "failed") return { kind: "wait", until: null };
  const expired = now.getTime() >= state.revertsAt.getTime();

  if (state.status === "applying" || state.status === "active") {
    if (expired) return { kind: "record", status: "reverting" };
    if (!observed.found) return { kind: "record", status: "failed", error: "the DaemonSet is gone" };
    if (observed.value === undefined)
      return { kind: "record", status: "failed", error: "the DaemonSet has no capture container" };
    const wanted = String(state.level);
    // Not applied yet, or changed since by someone else: (re)apply until it expires.
    if (observed.value !== wanted) return { kind: "patch", value: wanted, status: "applying" };
    if (state.status === "applying" && observed.rollout.complete) return { kind: "record", status: "active" };
    return { kind: "wait", until: state.revertsAt };
  }

  // reverting
  if (!observed.found)
    return { kind: "record", status: "reverted", error: "the DaemonSet is gone; nothing to put back" };
  if (observed.value === undefined)
    return { kind: "record", status: "failed", error: "the DaemonSet has no capture container" };
  if (observed.value !== state.previousLevel)
    return { kind: "patch", value: state.previousLevel, status: "reverting" };
  if (observed.rollout.complete) return { kind: "record", status: "reverted" };
  return { kind: "wait", until: null };
}
