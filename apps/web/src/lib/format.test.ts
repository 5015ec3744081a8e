import { describe, expect, it } from "vitest";
import { formatBytes, formatDateTime, formatLogTime, formatRelative } from "./format";

describe("formatLogTime", () => {
  it("renders local time, zero-padded", () => {
    expect(formatLogTime(new Date(2026, 0, 5, 7, 8, 9).toISOString())).toBe("2026-01-05 07:08:09");
  });
  it("passes through what it cannot parse", () => {
    expect(formatLogTime("not a date")).toBe("not a date");
  });
});

describe("formatDateTime", () => {
  it("shows a dash for missing values", () => {
    expect(formatDateTime(null)).toBe("—");
  });
});

describe("formatRelative", () => {
  const now = new Date("2026-11-22T12:00:00Z");
  it.each([
    ["2026-11-22T11:59:30Z", "just now"],
    ["2026-11-22T11:55:00Z", "5 minutes ago"],
    ["2026-11-19T12:00:00Z", "3 days ago"],
    ["2026-11-22T14:00:00Z", "in 2 hours"],
  ])("%s → %s", (iso, expected) => {
    expect(formatRelative(iso, now)).toBe(expected);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [5 * 1024 ** 3, "5.0 GiB"],
  ])("%d → %s", (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});
