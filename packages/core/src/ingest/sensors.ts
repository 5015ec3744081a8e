import type { Db } from "@tapfleet/db";

/** Sensors as last seen through their reports, by cluster and node. */
export async function listSensors(options: { db: Db; clusterId?: string | undefined }) {
  return options.db.sensor.findMany({
    where: options.clusterId ? { clusterId: options.clusterId } : {},
    orderBy: [{ clusterId: "asc" }, { nodeName: "asc" }],
    select: {
      id: true,
      clusterId: true,
      nodeName: true,
      podName: true,
      agentVersion: true,
      configHash: true,
      firstSeenAt: true,
      lastSeenAt: true,
      lastSummary: true,
    },
  });
}
