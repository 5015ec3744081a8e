import { listSensors, sensorReportingState, type SensorReportingStatus } from "@tapfleet/core";
import type { z } from "zod";
import { ZReportSummarySchema, type ReportSummaryOutput, type ZSensorReportingSchema } from "../schemas.ts";

function serializeReporting(status: SensorReportingStatus): z.infer<typeof ZSensorReportingSchema> {
  return {
    state: status.state,
    silentAt: status.silentAt.toISOString(),
    silentSince: status.silentSince ? status.silentSince.toISOString() : null,
  };
}

/** A sensor's reporting state after the given report (or, without one, since it was last seen). */
export function reportingAfter(options: {
  summary: ReportSummaryOutput | null;
  lastSeenAt: Date;
  now: Date;
}): z.infer<typeof ZSensorReportingSchema> {
  return serializeReporting(
    sensorReportingState({
      // Reports, not action polls, tell whether a sensor reports: polls also move lastSeenAt.
      lastSeenAt: options.summary ? new Date(options.summary.receivedAt) : options.lastSeenAt,
      reportIntervalSeconds: options.summary?.reportIntervalSeconds,
      now: options.now,
    }),
  );
}

export async function listSensorsView(options: Parameters<typeof listSensors>[0] & { now: Date }) {
  const sensors = await listSensors(options);
  return sensors.map((sensor) => toSensorView(sensor, options.now));
}

/** A sensor as the API shows it: its latest report's summary and its reporting state. */
export function toSensorView(sensor: Awaited<ReturnType<typeof listSensors>>[number], now: Date) {
  const parsed = ZReportSummarySchema.safeParse(sensor.lastSummary);
  const summary = parsed.success ? parsed.data : null;
  return {
    id: sensor.id,
    clusterId: sensor.clusterId,
    nodeName: sensor.nodeName,
    podName: sensor.podName,
    agentVersion: sensor.agentVersion,
    configHash: sensor.configHash,
    firstSeenAt: sensor.firstSeenAt.toISOString(),
    lastSeenAt: sensor.lastSeenAt.toISOString(),
    lastSummary: summary,
    reporting: reportingAfter({ summary, lastSeenAt: sensor.lastSeenAt, now }),
  };
}
