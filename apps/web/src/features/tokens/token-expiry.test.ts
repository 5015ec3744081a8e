import { describe, expect, it } from "vitest";
import { expiryToIso, localDateString } from "./token-expiry";

const now = new Date(2026, 10, 22, 14, 30); // 22 Nov 2026, 14:30 local time

describe("expiryToIso", () => {
  it("sends null for tokens that never expire", () => {
    expect(expiryToIso("never", "", now)).toEqual({ iso: null });
  });

  it.each([
    ["7", 7],
    ["30", 30],
    ["90", 90],
  ] as const)("counts %s days from now", (choice, days) => {
    const result = expiryToIso(choice, "", now);
    expect(result).toEqual({ iso: new Date(now.getTime() + days * 86_400_000).toISOString() });
  });

  it("ends a chosen day at its last local millisecond", () => {
    expect(expiryToIso("date", "2026-12-31", now)).toEqual({
      iso: new Date(2026, 11, 31, 23, 59, 59, 999).toISOString(),
    });
  });

  it("accepts today, which still has time left", () => {
    expect(expiryToIso("date", localDateString(now), now)).toHaveProperty("iso");
  });

  it.each([
    ["", "Pick the last day the token should work."],
    ["31/12/2026", "Pick the last day the token should work."],
    ["2026-11-21", "Pick a day in the future."],
  ])("refuses %j", (date, error) => {
    expect(expiryToIso("date", date, now)).toEqual({ error });
  });
});

describe("localDateString", () => {
  it("pads month and day", () => {
    expect(localDateString(new Date(2026, 0, 5))).toBe("2026-01-05");
  });
});
