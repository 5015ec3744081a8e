import { describe, expect, it } from "vitest";
import { clustersDone, isActive, rolloutActions, waveLabel } from "./rollout-status";

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
  it("names wave 0 the canary only when there are canaries", () => {
    expect(waveLabel(0, true)).toBe("Canary");
    expect(waveLabel(1, true)).toBe("Wave 1");
    expect(waveLabel(0, false)).toBe("Wave 1");
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
