import type { Db, LiveBus } from "@tapfleet/db";
import { INGEST_KEYS_TOPIC } from "../ingest/gateway.ts";
import { publishTopic, publishTopicMany } from "../live/topics.ts";
import { CLUSTER_CONNECTIONS_TOPIC } from "./connection.ts";

/**
 * Removes a cluster and everything recorded about it: its keys, connection,
 * sensors (with their chunks and actions, by cascade), their reports and
 * rollups and its inventory (coverage rows and runtime status), which
 * reference no row and would otherwise stay. The leader hears of it on the
 * live bus, stops watching the cluster and tells open pages it is gone. Nothing to do
 * when there is no such cluster; returns whether there was.
 *
 * Its keys stop verifying at once on every replica: each replica's ingest
 * gateway caches verified keys, and hears through the live bus to forget them
 * (an agent still reporting is then refused as unknown, never written).
 */
export async function removeCluster(options: { db: Db; bus: LiveBus; clusterId: string }): Promise<boolean> {
  const { db, clusterId } = options;
  const { removed, keyIds } = await db.$transaction(async (tx) => {
    const keys = await tx.ingestKey.findMany({ where: { clusterId }, select: { keyId: true } });
    const sensors = await tx.sensor.findMany({ where: { clusterId }, select: { id: true } });
    const sensorIds = sensors.map((sensor) => sensor.id);
    await tx.sensorReport.deleteMany({ where: { clusterId } });
    if (sensorIds.length > 0)
      await tx.sensorStatsRollup.deleteMany({ where: { sensorId: { in: sensorIds } } });
    await tx.inventoryCoverage.deleteMany({ where: { clusterId } });
    await tx.inventoryCluster.deleteMany({ where: { clusterId } });
    const deleted = await tx.cluster.deleteMany({ where: { id: clusterId } });
    return { removed: deleted.count > 0, keyIds: [...new Set(keys.map((key) => key.keyId))] };
  });
  if (keyIds.length > 0)
    await publishTopicMany(
      options.bus,
      INGEST_KEYS_TOPIC,
      keyIds.map((keyId) => ({ keyId })),
    );
  if (removed) await publishTopic(options.bus, CLUSTER_CONNECTIONS_TOPIC, { clusterId, change: "removed" });
  return removed;
}
