import { describe, expect, it } from "vitest";
import { validatePassword, validateTokenName, validateUsername } from "./account-rules";

describe("validateUsername", () => {
  it.each([
    ["ab", "Use at least 3 characters."],
    ["abc", null],
    ["ops.team_1-a", null],
    ["a".repeat(64), null],
    ["a".repeat(65), "Use at most 64 characters."],
    ["Alice", "Use lowercase letters, digits, dots, underscores or hyphens only."],
    ["bob smith", "Use lowercase letters, digits, dots, underscores or hyphens only."],
    ["bob@example", "Use lowercase letters, digits, dots, underscores or hyphens only."],
  ])("%j → %j", (username, expected) => {
    expect(validateUsername(username)).toBe(expected);
  });
});

describe("validatePassword", () => {
  it.each([
    ["", "Use at least 12 characters."],
    ["elevenchars", "Use at least 12 characters."],
    ["twelve-chars", null],
  ])("%j → %j", (password, expected) => {
    expect(validatePassword(password)).toBe(expected);
  });
});

describe("validateTokenName", () => {
  it.each([
    ["   ", "Give the token a name, e.g. the pipeline that will use it."],
    ["deploy", null],
    ["x".repeat(101), "Use at most 100 characters."],
  ])("%j → %j", (name, expected) => {
    expect(validateTokenName(name)).toBe(expected);
  });
});
