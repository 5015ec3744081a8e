import { describe, expect, it } from "vitest";
import {
  COVERAGE_STATE_ORDER,
  COVERAGE_STATE_STYLES,
  isCoverageState,
  problemCount,
} from "./coverage-states";

describe("coverage states", () => {
  it("gives the nine states of the vocabulary one distinct colour and icon each, problems first", () => {
    expect([...COVERAGE_STATE_ORDER].sort()).toEqual(
      [
        "covered",
        "starting",
        "crash-looping",
        "pending",
        "silent",
        "not-scheduled",
        "node-not-ready",
        "excluded",
        "unreachable",
      ].sort(),
    );
    const styles = Object.values(COVERAGE_STATE_STYLES);
    expect(new Set(styles.map((s) => s.color)).size).toBe(styles.length);
    expect(new Set(styles.map((s) => s.icon)).size).toBe(styles.length);
    const firstHealthy = COVERAGE_STATE_ORDER.findIndex((s) => !COVERAGE_STATE_STYLES[s].problem);
    expect(COVERAGE_STATE_ORDER.slice(firstHealthy).every((s) => !COVERAGE_STATE_STYLES[s].problem)).toBe(
      true,
    );
  });

  it.each([
    ["covered", true],
    ["excluded", true],
    ["happy", false],
    ["toString", false],
    [undefined, false],
  ])("isCoverageState(%s) is %s", (value, expected) => {
    expect(isCoverageState(value)).toBe(expected);
  });

  it("counts the problems, not the covered, starting or excluded nodes", () => {
    expect(
      problemCount({ covered: 5, starting: 1, excluded: 2, silent: 2, "crash-looping": 1, pending: 0 }),
    ).toBe(3);
  });
});
