import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatLogTime,
  formatRelative,
  formatTimeTicks,
} from "./format";

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

describe("formatTimeTicks", () => {
  const at = (iso: string) => Date.parse(iso) / 1000;
  it.each([
    [
      "seconds: a 24-hour clock with seconds, the day under the first tick",
      ["2026-12-05T14:03:00Z", "2026-12-05T14:03:10Z", "2026-12-05T14:03:20Z"],
      10,
      ["14:03:00\n5 Dec", "14:03:10", "14:03:20"],
    ],
    [
      "minutes in the afternoon: 24-hour, no am/pm",
      ["2026-12-05T13:00:00Z", "2026-12-05T13:15:00Z", "2026-12-05T13:30:00Z"],
      900,
      ["13:00\n5 Dec", "13:15", "13:30"],
    ],
    [
      "hours across midnight: the new day under its first tick",
      ["2026-12-05T20:00:00Z", "2026-12-05T22:00:00Z", "2026-12-06T00:00:00Z", "2026-12-06T02:00:00Z"],
      7200,
      ["20:00\n5 Dec", "22:00", "00:00\n6 Dec", "02:00"],
    ],
    [
      "days: day before month",
      ["2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"],
      86400,
      ["29 Nov", "30 Nov", "1 Dec"],
    ],
    [
      "months: month and year",
      ["2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"],
      30 * 86400,
      ["Nov 2026", "Dec 2026", "Jan 2027"],
    ],
  ])("%s", (_what, isoTicks, step, expected) => {
    expect(formatTimeTicks(isoTicks.map(at), step, { timeZone: "UTC" })).toEqual(expected);
  });
  it("reads the ticks in the given zone", () => {
    expect(formatTimeTicks([at("2026-12-05T23:30:00Z")], 1800, { timeZone: "Europe/Paris" })).toEqual([
      "00:30\n6 Dec",
    ]);
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
