import { describe, expect, it } from "vitest";
import { formatBytes, formatDateTime, formatDuration, formatLogTime, formatRelative } from "./format";

const moment = "2026-12-05T14:03:12Z";

describe("formatDateTime", () => {
  it.each([
    ["UTC", "5 Dec 2026, 14:03:12 UTC"],
    ["Europe/Paris", "5 Dec 2026, 15:03:12 CET"],
    ["America/New_York", "5 Dec 2026, 09:03:12 GMT-5"],
    ["Asia/Kolkata", "5 Dec 2026, 19:33:12 GMT+5:30"],
  ])("in %s → %s", (timeZone, expected) => {
    expect(formatDateTime(moment, { timeZone })).toBe(expected);
  });
  it("uses a 24-hour clock and pads the time", () => {
    expect(formatDateTime("2026-01-05T00:08:09Z", { timeZone: "UTC" })).toBe("5 Jan 2026, 00:08:09 UTC");
  });
  it("always names a zone, in the zone the process runs in too", () => {
    expect(formatDateTime(moment)).toMatch(/^5 Dec 2026, \d{2}:\d{2}:12 (UTC|GMT[+-][\d:]+|[A-Z]{2,5})$/);
  });
  it("shows a dash for missing values", () => {
    expect(formatDateTime(null)).toBe("—");
    expect(formatDateTime(undefined)).toBe("—");
  });
  it("passes through what it cannot parse", () => {
    expect(formatDateTime("not a date")).toBe("not a date");
  });
});

describe("formatLogTime", () => {
  it("is the same style as every other date", () => {
    expect(formatLogTime(moment, { timeZone: "UTC" })).toBe("5 Dec 2026, 14:03:12 UTC");
    expect(formatLogTime(moment)).toBe(formatDateTime(moment));
  });
  it("passes through what it cannot parse", () => {
    expect(formatLogTime("not a date")).toBe("not a date");
  });
});

describe("formatRelative", () => {
  const now = new Date("2026-11-22T12:00:00Z");
  it.each([
    ["2026-11-22T11:59:30Z", "just now"],
    ["2026-11-22T11:55:00Z", "5 minutes ago"],
    ["2026-11-21T12:00:00Z", "yesterday"],
    ["2026-11-19T12:00:00Z", "3 days ago"],
    ["2026-11-22T14:00:00Z", "in 2 hours"],
  ])("%s → %s", (iso, expected) => {
    expect(formatRelative(iso, now)).toBe(expected);
  });
  it("passes through what it cannot parse instead of claiming 'just now'", () => {
    expect(formatRelative("not a date", now)).toBe("not a date");
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

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [999, "0 s"],
    [12_400, "12 s"],
    [60_000, "1 min"],
    [65_000, "1 min 5 s"],
    [3_600_000, "1 h"],
    [3_720_000, "1 h 2 min"],
    [-5, "0 s"],
  ])("%d ms reads %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
