import { describe, expect, it } from "vitest";
import { describeSensorsStat } from "./sensors-stat";

describe("describeSensorsStat", () => {
  it.each([
    [{ reported: 0, silentSensors: 0, silentNodes: 0 }, "no agent has reported yet", false],
    [
      { reported: 0, silentSensors: 0, silentNodes: 2 },
      "no agent has reported yet; 2 pods are Ready but silent",
      true,
    ],
    [{ reported: 5, silentSensors: 0, silentNodes: 0 }, "all reporting", false],
    // The demo: five agents report, node-5's pod is Ready but its agent reports elsewhere.
    [
      { reported: 5, silentSensors: 0, silentNodes: 1 },
      "all reporting; 1 more pod is Ready but silent",
      true,
    ],
    [{ reported: 5, silentSensors: 1, silentNodes: 2 }, "1 silent (no report for three intervals)", true],
  ] as const)("%j", (options, detail, attention) => {
    expect(describeSensorsStat(options)).toEqual({ detail, attention });
  });
});
