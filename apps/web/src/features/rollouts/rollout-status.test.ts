import { describe, expect, it } from "vitest";
import {
  clusterReasonColor,
  clusterStatusIn,
  clustersDone,
  isActive,
  pendingClusterLine,
  rolloutActions,
  rolloutReasonColor,
  rolloutReasonTitle,
  waveLabel,
} from "./rollout-status";

describe("rolloutActions", () => {
  it.each([
    ["pending", { pause: true, resume: false, abort: true }],
    ["running", { pause: true, resume: false, abort: true }],
    ["paused", { pause: false, resume: true, abort: true }],
    ["aborting", { pause: false, resume: false, abort: false }],
    ["succeeded", { pause: false, resume: false, abort: false }],
    ["rolled-back", { pause: false, resume: false, abort: false }],
  ] as const)("%s offers %o", (status, actions) => {
    expect(rolloutActions(status)).toEqual(actions);
  });
});

describe("isActive", () => {
  it("is true only while the leader still works on it", () => {
    expect(isActive("paused")).toBe(true);
    expect(isActive("failed")).toBe(false);
  });
});

describe("waveLabel", () => {
  it("names wave 0 the canary and numbers the others as the server does", () => {
    expect(waveLabel(0)).toBe("Canary");
    expect(waveLabel(1)).toBe("Wave 1");
    expect(waveLabel(2)).toBe("Wave 2");
  });
});

describe("clustersDone", () => {
  it("counts clusters that ended, whatever the outcome", () => {
    expect(
      clustersDone([
        { status: "succeeded" },
        { status: "gating" },
        { status: "rolled-back" },
        { status: "pending" },
      ]),
    ).toBe(2);
  });
});

describe("a waiting cluster of a rollout being aborted", () => {
  it("reads as not started, never as waiting for the clusters before it", () => {
    expect(clusterStatusIn("aborting", "pending").label).toBe("Not started");
    expect(clusterStatusIn("aborted", "pending").label).toBe("Not started");
    expect(pendingClusterLine("aborting")).toBe("Not started: the rollout was aborted.");
    expect(pendingClusterLine("aborting")).not.toMatch(/waits/i);
  });

  it("still waits while the rollout runs or is paused", () => {
    expect(clusterStatusIn("running", "pending").label).toBe("Waiting");
    expect(clusterStatusIn("aborting", "rolling-back").label).toBe("Rolling back");
    expect(pendingClusterLine("running")).toBe("Waits for the clusters before it to pass their health gate.");
    expect(pendingClusterLine("paused")).toBe("Waits until the rollout is resumed.");
  });

  it("titles the abort's reason as an abort, not a note", () => {
    expect(rolloutReasonTitle("aborting")).toBe("Aborted");
    expect(rolloutReasonTitle("aborted")).toBe("Aborted");
    expect(rolloutReasonTitle("rolled-back")).toBe("Why it was stopped");
    expect(rolloutReasonColor("aborted")).toBe("gray");
    expect(rolloutReasonColor("rolled-back")).toBe("red");
    expect(clusterReasonColor("aborted", "rolled-back")).toBe("gray");
    expect(clusterReasonColor("aborted", "skipped")).toBe("gray");
    expect(clusterReasonColor("aborted", "failed")).toBe("red");
    expect(clusterReasonColor("rolled-back", "rolled-back")).toBe("red");
  });
});
