import { describe, expect, it } from "vitest";
import { validateClusterId } from "./cluster-rules";

describe("validateClusterId", () => {
  const shape =
    "Cluster ID must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  it.each([
    ["", "Cluster ID is required"],
    ["prod-eu-1", null],
    ["a", null],
    ["a".repeat(63), null],
    ["a".repeat(64), "Cluster ID must be at most 63 characters"],
    ["-prod", shape],
    ["prod-", shape],
    ["Prod", shape],
    ["prod_eu", shape],
  ])("%j → %j", (id, expected) => {
    expect(validateClusterId(id)).toBe(expected);
  });
});
