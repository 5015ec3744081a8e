import { describe, expect, it } from "vitest";
import { normalizeUsername, validateTokenName, validateUsername } from "./account-rules";
import { validatePassword } from "./password-rules";

describe("validateUsername", () => {
  const shape = "Username may contain only letters, digits, '.', '_' and '-'";
  it.each([
    ["ab", "Username must be at least 3 characters"],
    ["abc", null],
    ["ops.team_1-a", null],
    ["a".repeat(64), null],
    ["a".repeat(65), "Username must be at most 64 characters"],
    // The server accepts capitals and stores the name in lower case: so does the form.
    ["Alice", null],
    ["bob smith", shape],
    ["bob@example", shape],
  ])("%j → %j", (username, expected) => {
    expect(validateUsername(username)).toBe(expected);
  });

  it("shows how a name with capitals is stored", () => {
    expect(normalizeUsername(" Alice.Ops ")).toBe("alice.ops");
  });
});

describe("validatePassword", () => {
  it.each([
    ["", /^Password must be at least 12 characters$/],
    ["elevenchars", /^Password must be at least 12 characters$/],
    ["aaaaaaaaaaaa", /^Password is too easy to guess: Repeated characters like "aaa"/],
    ["password1234", /^Password is too easy to guess/],
    ["twelve-chars", null],
    ["violet-harbor-lantern-42", null],
  ])("%j → %j", (password, expected) => {
    const message = validatePassword(password);
    if (expected === null) expect(message).toBeNull();
    else expect(message).toMatch(expected);
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
