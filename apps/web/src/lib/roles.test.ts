import { describe, expect, it } from "vitest";
import { roleAtLeast, rolesUpTo } from "./roles";

describe("roles", () => {
  it.each([
    ["viewer", "viewer", true],
    ["viewer", "operator", false],
    ["operator", "viewer", true],
    ["operator", "admin", false],
    ["admin", "operator", true],
  ] as const)("%s is at least %s: %s", (role, minimum, expected) => {
    expect(roleAtLeast(role, minimum)).toBe(expected);
  });

  it("offers a caller only roles up to their own", () => {
    expect(rolesUpTo("viewer")).toEqual(["viewer"]);
    expect(rolesUpTo("operator")).toEqual(["viewer", "operator"]);
    expect(rolesUpTo("admin")).toEqual(["viewer", "operator", "admin"]);
  });
});
