import { listSensors } from "@tapfleet/core";
import { ZReportSummarySchema } from "../schemas.ts";

export async function listSensorsView(options: Parameters<typeof listSensors>[0]) {
  const sensors = await listSensors(options);
  return sensors.map((sensor) => {
    const summary = ZReportSummarySchema.safeParse(sensor.lastSummary);
    return {
      id: sensor.id,
      clusterId: sensor.clusterId,
      nodeName: sensor.nodeName,
      podName: sensor.podName,
      agentVersion: sensor.agentVersion,
      configHash: sensor.configHash,
      firstSeenAt: sensor.firstSeenAt.toISOString(),
      lastSeenAt: sensor.lastSeenAt.toISOString(),
      lastSummary: summary.success ? summary.data : null,
    };
  });
}
