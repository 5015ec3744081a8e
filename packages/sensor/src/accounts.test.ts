import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  ROLES,
  ZClusterIdSchema,
  ZRoleSchema,
  ZUsernameSchema,
  normalizeUsername,
  roleAtLeast,
} from "./accounts.ts";
import { ZChangeMyPasswordInputSchema, ZPasswordSchema } from "./passwords.ts";

/** The stored value when accepted, or every message joined when refused. */
function judge(schema: z.ZodType, value: unknown): { ok: unknown } | { refused: string } {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: result.data }
    : { refused: result.error.issues.map((issue) => issue.message).join(" / ") };
}

type Case = [
  what: string,
  schema: z.ZodType,
  value: unknown,
  expected: { ok: unknown } | { refused: RegExp },
];

const cases: Case[] = [
  // Usernames: case-insensitive, so stored in lower case.
  ["a plain username", ZUsernameSchema, "ops.team_1-a", { ok: "ops.team_1-a" }],
  ["a username with capitals", ZUsernameSchema, "Alice.Ops", { ok: "alice.ops" }],
  ["a username with spaces around", ZUsernameSchema, "  bob  ", { ok: "bob" }],
  ["the shortest username", ZUsernameSchema, "abc", { ok: "abc" }],
  ["the longest username", ZUsernameSchema, "a".repeat(64), { ok: "a".repeat(64) }],
  ["a too short username", ZUsernameSchema, "ab", { refused: /^must be at least 3 characters$/ }],
  ["a too long username", ZUsernameSchema, "a".repeat(65), { refused: /^must be at most 64 characters$/ }],
  ["a username with a space", ZUsernameSchema, "bob smith", { refused: /^may contain only letters, digits/ }],
  ["a username with an @", ZUsernameSchema, "bob@example", { refused: /^may contain only letters, digits/ }],
  ["a username that is not a string", ZUsernameSchema, 42, { refused: /expected string/ }],
  // Cluster ids: DNS labels, never normalised.
  ["a cluster id", ZClusterIdSchema, "prod-eu-1", { ok: "prod-eu-1" }],
  ["a one-letter cluster id", ZClusterIdSchema, "a", { ok: "a" }],
  ["the longest cluster id", ZClusterIdSchema, "a".repeat(63), { ok: "a".repeat(63) }],
  ["an empty cluster id", ZClusterIdSchema, "", { refused: /^is required/ }],
  ["a too long cluster id", ZClusterIdSchema, "a".repeat(64), { refused: /^must be at most 63 characters$/ }],
  ["a cluster id starting with -", ZClusterIdSchema, "-prod", { refused: /^must be a DNS label/ }],
  ["a cluster id ending with -", ZClusterIdSchema, "prod-", { refused: /^must be a DNS label/ }],
  ["a cluster id with capitals", ZClusterIdSchema, "Prod", { refused: /^must be a DNS label/ }],
  ["a cluster id with _", ZClusterIdSchema, "prod_eu", { refused: /^must be a DNS label/ }],
  // Roles.
  ["the viewer role", ZRoleSchema, "viewer", { ok: "viewer" }],
  ["the admin role", ZRoleSchema, "admin", { ok: "admin" }],
  ["an unknown role", ZRoleSchema, "root", { refused: /expected one of "viewer"\|"operator"\|"admin"/ }],
  ["a role in capitals", ZRoleSchema, "Admin", { refused: /expected one of/ }],
  // Passwords: 12–256 characters, then zxcvbn's score of at least 3.
  ["a long passphrase", ZPasswordSchema, "correct-horse-battery", { ok: "correct-horse-battery" }],
  ["the e2e admin password", ZPasswordSchema, "e2e-admin-password", { ok: "e2e-admin-password" }],
  ["a mixed passphrase", ZPasswordSchema, "Tapfleet-demo-2026", { ok: "Tapfleet-demo-2026" }],
  ["twelve uncommon characters", ZPasswordSchema, "twelve-chars", { ok: "twelve-chars" }],
  ["an empty password", ZPasswordSchema, "", { refused: /^must be at least 12 characters/ }],
  ["a short password", ZPasswordSchema, "short", { refused: /^must be at least 12 characters/ }],
  ["a too long password", ZPasswordSchema, "x".repeat(257), { refused: /^must be at most 256 characters/ }],
  [
    "a repeated character",
    ZPasswordSchema,
    "aaaaaaaaaaaa",
    { refused: /^is too easy to guess: Repeated characters like "aaa" are easy to guess/ },
  ],
  ["a common password", ZPasswordSchema, "password1234", { refused: /^is too easy to guess/ }],
  ["a keyboard row", ZPasswordSchema, "qwertyuiopas", { refused: /^is too easy to guess/ }],
];

describe("the account rules", () => {
  it.each(cases)("%s (%j)", (_what, schema, value, expected) => {
    const verdict = judge(schema, value);
    if ("ok" in expected) expect(verdict).toEqual(expected);
    else expect(verdict).toEqual({ refused: expect.stringMatching(expected.refused) });
  });

  it("ranks roles in order, each granting what the ones before it grant", () => {
    expect(ROLES).toEqual(["viewer", "operator", "admin"]);
    const table = ROLES.map((role) => ROLES.map((required) => roleAtLeast(role, required)));
    expect(table).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });

  it("normalises a username the way the schema stores it", () => {
    expect(normalizeUsername(" Alice.Ops ")).toBe(ZUsernameSchema.parse(" Alice.Ops "));
  });

  it("asks for the current password and a new one that follows the rule", () => {
    expect(judge(ZChangeMyPasswordInputSchema, { currentPassword: "", newPassword: "short" })).toEqual({
      refused: "is required / must be at least 12 characters",
    });
  });
});
