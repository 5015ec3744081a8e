import { describe, expect, it } from "vitest";
import { SILENT_AFTER_REPORT_INTERVALS, sensorReportingState } from "./status.ts";

const lastSeenAt = new Date("2026-11-22T12:00:00.000Z");
const after = (seconds: number) => new Date(lastSeenAt.getTime() + seconds * 1000);

describe("sensorReportingState", () => {
  it("allows three missed report intervals", () => {
    expect(SILENT_AFTER_REPORT_INTERVALS).toBe(3);
  });

  it.each([
    // interval, seconds since the last report, state, silent at (seconds after the last report)
    { interval: 5, elapsed: 0, state: "reporting", silentAt: 15 },
    { interval: 5, elapsed: 5, state: "reporting", silentAt: 15 },
    { interval: 5, elapsed: 14.999, state: "reporting", silentAt: 15 },
    { interval: 5, elapsed: 15, state: "silent", silentAt: 15 },
    { interval: 5, elapsed: 180, state: "silent", silentAt: 15 },
    { interval: 1, elapsed: 2, state: "reporting", silentAt: 3 },
    { interval: 1, elapsed: 3, state: "silent", silentAt: 3 },
    { interval: 3600, elapsed: 3 * 3600 - 1, state: "reporting", silentAt: 3 * 3600 },
    // Reports without an interval count with the agent's default of 10 s.
    { interval: undefined, elapsed: 29, state: "reporting", silentAt: 30 },
    { interval: null, elapsed: 30, state: "silent", silentAt: 30 },
    // A clock behind the report's receipt is no reason to call the sensor silent.
    { interval: 5, elapsed: -60, state: "reporting", silentAt: 15 },
  ] as const)(
    "every $interval s, $elapsed s after the last report: $state",
    ({ interval, elapsed, state, silentAt }) => {
      const status = sensorReportingState({
        lastSeenAt,
        reportIntervalSeconds: interval,
        now: after(elapsed),
      });
      expect(status).toEqual({
        state,
        silentAt: after(silentAt),
        silentSince: state === "silent" ? after(silentAt) : null,
      });
    },
  );

  it.each([0, -5, Number.NaN])("refuses a report interval of %s", (interval) => {
    expect(() =>
      sensorReportingState({ lastSeenAt, reportIntervalSeconds: interval, now: lastSeenAt }),
    ).toThrow(/reportIntervalSeconds must be positive/);
  });
});
