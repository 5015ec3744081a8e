import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next";

describe("safeNextPath", () => {
  it.each([
    [null, "/fleet"],
    ["", "/fleet"],
    ["/settings/tokens", "/settings/tokens"],
    ["/settings/audit?outcome=failure", "/settings/audit?outcome=failure"],
    ["https://evil.example/", "/fleet"],
    ["//evil.example/path", "/fleet"],
    ["/\\evil.example", "/fleet"],
    ["javascript:alert(1)", "/fleet"],
    ["/login", "/fleet"],
    ["/login?next=%2Ffleet", "/fleet"],
  ])("%s → %s", (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });
});
