// Whether a sensor still reports: the one rule behind every "silent" badge and
// count. The server applies it and sends the verdict with its deadline, so a
// dashboard only has to flip the badge when the deadline passes.
import { SILENT_AFTER_REPORT_INTERVALS } from "@tapfleet/sensor/health";
import { REPORT_INTERVAL_SECONDS } from "@tapfleet/sensor/settings";

/** A sensor is silent once this many of its report intervals have passed without a report (the agent's readiness rule too). */
export { SILENT_AFTER_REPORT_INTERVALS };

export const SENSOR_REPORTING_STATES = ["reporting", "silent"] as const;
export type SensorReportingState = (typeof SENSOR_REPORTING_STATES)[number];

export interface SensorReportingStatus {
  state: SensorReportingState;
  /** When the sensor is (or was) silent without a new report: its last report plus three intervals. */
  silentAt: Date;
  /** Equal to `silentAt` once silent; null while reporting. */
  silentSince: Date | null;
}

/**
 * Judges a sensor by its last report and the interval that report announced.
 * A report without an interval (older agents) counts with the agent's default.
 */
export function sensorReportingState(options: {
  lastSeenAt: Date;
  reportIntervalSeconds: number | null | undefined;
  now: Date;
}): SensorReportingStatus {
  const intervalSeconds = options.reportIntervalSeconds ?? REPORT_INTERVAL_SECONDS.default;
  if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0)
    throw new RangeError(
      `sensorReportingState: reportIntervalSeconds must be positive, got ${intervalSeconds}`,
    );
  const silentAt = new Date(
    options.lastSeenAt.getTime() + SILENT_AFTER_REPORT_INTERVALS * intervalSeconds * 1000,
  );
  return options.now.getTime() >= silentAt.getTime()
    ? { state: "silent", silentAt, silentSince: silentAt }
    : { state: "reporting", silentAt, silentSince: null };
}
