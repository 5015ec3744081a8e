import { describe, expect, it } from "vitest";
import { ZPasswordSchema } from "./password-rule.ts";

const messageOf = (password: string) => {
  const result = ZPasswordSchema.safeParse(password);
  return result.success ? null : result.error.issues.map((issue) => issue.message).join(" / ");
};

describe("the password rule", () => {
  it.each([
    ["short", /^must be at least 12 characters/],
    ["x".repeat(257), /^must be at most 256 characters/],
    ["aaaaaaaaaaaa", /^is too easy to guess: Repeated characters like "aaa" are easy to guess/],
    ["password1234", /^is too easy to guess/],
    ["qwertyuiopas", /^is too easy to guess/],
  ])("refuses %j", (password, expected) => {
    expect(messageOf(password)).toMatch(expected);
  });

  it.each(["correct-horse-battery", "e2e-admin-password", "Tapfleet-demo-2026"])("accepts %j", (password) => {
    expect(messageOf(password)).toBeNull();
  });
});
