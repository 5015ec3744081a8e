import { describe, expect, it } from "vitest";
import { validateClusterId } from "./cluster-rules";

describe("validateClusterId", () => {
  const shape = "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.";
  it.each([
    ["", "Give the cluster an id, e.g. prod-eu-1."],
    ["prod-eu-1", null],
    ["a", null],
    ["a".repeat(63), null],
    ["a".repeat(64), "Use at most 63 characters."],
    ["-prod", shape],
    ["prod-", shape],
    ["Prod", shape],
    ["prod_eu", shape],
  ])("%j → %j", (id, expected) => {
    expect(validateClusterId(id)).toBe(expected);
  });
});
