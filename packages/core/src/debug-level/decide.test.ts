import type { RolloutProgress } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import {
  nextDebugLevelStep,
  type DebugLevelState,
  type DebugLevelStep,
  type ObservedDebugDaemonSet,
} from "./decide.ts";

const T0 = new Date("2026-12-05T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const REVERTS_AT = at(60);

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
const unobserved: RolloutProgress = { ...done, observed: false, complete: false };

const state = (status: DebugLevelState["status"], previousLevel: string | null = "2"): DebugLevelState => ({
  level: 4,
  previousLevel,
  revertsAt: REVERTS_AT,
  status,
});
const seen = (value: string | null | undefined, rollout = done): ObservedDebugDaemonSet => ({
  found: true,
  value,
  rollout,
});
const gone: ObservedDebugDaemonSet = { found: false };

const cases: [string, DebugLevelState, ObservedDebugDaemonSet, Date, DebugLevelStep][] = [
  [
    "applying, template still old: patch the level",
    state("applying"),
    seen("2"),
    at(0),
    { kind: "patch", value: "4", status: "applying" },
  ],
  [
    "applying, variable absent: patch the level",
    state("applying", null),
    seen(null),
    at(0),
    { kind: "patch", value: "4", status: "applying" },
  ],
  [
    "applying, patched, controller has not seen it yet: wait",
    state("applying"),
    seen("4", unobserved),
    at(1),
    { kind: "wait", until: REVERTS_AT },
  ],
  [
    "applying, patched, pods rolling: wait",
    state("applying"),
    seen("4", rolling),
    at(2),
    { kind: "wait", until: REVERTS_AT },
  ],
  ["applying, rolled out: active", state("applying"), seen("4"), at(5), { kind: "record", status: "active" }],
  [
    "active: wait for the revert time",
    state("active"),
    seen("4"),
    at(30),
    { kind: "wait", until: REVERTS_AT },
  ],
  [
    "active, changed by someone else: apply again",
    state("active"),
    seen("1"),
    at(30),
    { kind: "patch", value: "4", status: "applying" },
  ],
  [
    "active, time is up: reverting",
    state("active"),
    seen("4"),
    at(60),
    { kind: "record", status: "reverting" },
  ],
  [
    "applying, time is up before it rolled out: reverting",
    state("applying"),
    seen("4", rolling),
    at(61),
    { kind: "record", status: "reverting" },
  ],
  [
    "reverting: patch the previous level back",
    state("reverting"),
    seen("4"),
    at(60),
    { kind: "patch", value: "2", status: "reverting" },
  ],
  [
    "reverting, variable was absent: remove it",
    state("reverting", null),
    seen("4"),
    at(60),
    { kind: "patch", value: null, status: "reverting" },
  ],
  [
    "reverting, patched back, rolling: wait",
    state("reverting"),
    seen("2", rolling),
    at(61),
    { kind: "wait", until: null },
  ],
  [
    "reverting, rolled back: reverted",
    state("reverting"),
    seen("2"),
    at(65),
    { kind: "record", status: "reverted" },
  ],
  [
    "reverting, removed and rolled back: reverted",
    state("reverting", null),
    seen(null),
    at(65),
    { kind: "record", status: "reverted" },
  ],
  [
    "applying, DaemonSet deleted: failed",
    state("applying"),
    gone,
    at(0),
    { kind: "record", status: "failed", error: "the DaemonSet is gone" },
  ],
  [
    "applying, no capture container: failed",
    state("applying"),
    seen(undefined),
    at(0),
    { kind: "record", status: "failed", error: "the DaemonSet has no capture container" },
  ],
  [
    "reverting, DaemonSet deleted: nothing to put back",
    state("reverting"),
    gone,
    at(60),
    { kind: "record", status: "reverted", error: "the DaemonSet is gone; nothing to put back" },
  ],
  ["reverted: nothing more", state("reverted"), seen("2"), at(999), { kind: "wait", until: null }],
  ["failed: nothing more", state("failed"), seen("4"), at(999), { kind: "wait", until: null }],
];

describe("nextDebugLevelStep", () => {
  it.each(cases)("%s", (_name, given, observed, now, expected) => {
    expect(nextDebugLevelStep(given, observed, now)).toEqual(expected);
  });

  it("walks a whole level on a manual clock: apply, roll, hold, revert, roll back", () => {
    let current = state("applying");
    let template: string | null = "2";
    let rollout = done;
    const steps: string[] = [];
    const clock = { now: T0 };
    for (let i = 0; i < 12 && current.status !== "reverted"; i++) {
      const step = nextDebugLevelStep(current, seen(template, rollout), clock.now);
      steps.push(
        step.kind === "patch" ? `patch ${step.value}` : step.kind === "record" ? step.status : "wait",
      );
      if (step.kind === "patch") {
        template = step.value;
        rollout = rolling;
        current = { ...current, status: step.status };
      } else if (step.kind === "record") current = { ...current, status: step.status };
      else if (rollout === rolling) rollout = done;
      else clock.now = step.until ?? clock.now;
    }
    expect(steps).toEqual(["patch 4", "wait", "active", "wait", "reverting", "patch 2", "wait", "reverted"]);
  });
});
