import { describe, expect, it } from "vitest";
import { debugLevelLabel, settledDebugLevelLine } from "./debug-level-wording";

describe("debug level wording", () => {
  it("names the default level with its number", () => {
    expect(debugLevelLabel(null)).toBe("1 (default)");
    expect(debugLevelLabel(0)).toBe("0");
    expect(debugLevelLabel(4)).toBe("4");
  });

  it("says the level the sensors are back at, and the one that was set", () => {
    const daemonSet = { namespace: "tapfleet-sensor", name: "tapfleet-sensor" };
    expect(settledDebugLevelLine({ status: "reverted", level: 4, previousLevel: null, daemonSet })).toBe(
      "Back at level 1 (default) on tapfleet-sensor/tapfleet-sensor after level 4.",
    );
    expect(settledDebugLevelLine({ status: "reverted", level: 5, previousLevel: 2, daemonSet })).toBe(
      "Back at level 2 on tapfleet-sensor/tapfleet-sensor after level 5.",
    );
    expect(settledDebugLevelLine({ status: "failed", level: 5, previousLevel: 2, daemonSet })).toContain(
      "no longer followed",
    );
  });
});
