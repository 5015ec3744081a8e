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
