import type { Db } from "@tapfleet/db";

/**
 * Removes a cluster and everything recorded about it: its keys, connection,
 * sensors (with their chunks and actions, by cascade), their reports and
 * rollups and its inventory (coverage rows and runtime status), which
 * reference no row and would otherwise stay. The leader's next reconciliation
 * stops watching the cluster and tells open pages it is gone. Nothing to do
 * when there is no such cluster; returns whether there was.
 */
export async function removeCluster(options: { db: Db; clusterId: string }): Promise<boolean> {
  const { db, clusterId } = options;
  return db.$transaction(async (tx) => {
    const sensors = await tx.sensor.findMany({ where: { clusterId }, select: { id: true } });
    const sensorIds = sensors.map((sensor) => sensor.id);
    await tx.sensorReport.deleteMany({ where: { clusterId } });
    if (sensorIds.length > 0)
      await tx.sensorStatsRollup.deleteMany({ where: { sensorId: { in: sensorIds } } });
    await tx.inventoryCoverage.deleteMany({ where: { clusterId } });
    await tx.inventoryCluster.deleteMany({ where: { clusterId } });
    const removed = await tx.cluster.deleteMany({ where: { id: clusterId } });
    return removed.count > 0;
  });
}
