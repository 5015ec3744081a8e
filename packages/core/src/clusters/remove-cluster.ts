import type { Db, LiveBus } from "@tapfleet/db";
import { PENDING_DEBUG_LEVEL_STATUSES } from "../debug-level/decide.ts";
import { AppError } from "../errors.ts";
import { INGEST_KEYS_TOPIC } from "../ingest/gateway.ts";
import { publishTopic, publishTopicMany } from "../live/topics.ts";
import { ACTIVE_ROLLOUT_STATUSES } from "../rollouts/schema.ts";
import type { SecretBox } from "../secrets.ts";
import { releaseSensor } from "../sensor-install/adopt.ts";
import { CLUSTER_CONNECTIONS_TOPIC } from "./connection.ts";

/** How many rows of each kind a cluster's removal deleted. */
export type RemovedClusterRows = {
  ingestKeys: number;
  sensors: number;
  reports: number;
  statsRollups: number;
  inventoryNodes: number;
  sensorDrifts: number;
};

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

async function deleteClusterRows(tx: Tx, clusterId: string) {
  const keys = await tx.ingestKey.findMany({ where: { clusterId }, select: { keyId: true } });
  const sensors = await tx.sensor.findMany({ where: { clusterId }, select: { id: true } });
  const sensorIds = sensors.map((sensor) => sensor.id);
  const reports = await tx.sensorReport.deleteMany({ where: { clusterId } });
  const statsRollups =
    sensorIds.length > 0
      ? (await tx.sensorStatsRollup.deleteMany({ where: { sensorId: { in: sensorIds } } })).count
      : 0;
  const inventoryNodes = await tx.inventoryCoverage.deleteMany({ where: { clusterId } });
  await tx.inventoryCluster.deleteMany({ where: { clusterId } });
  const sensorDrifts = await tx.sensorDrift.deleteMany({ where: { clusterId } });
  const deleted = await tx.cluster.deleteMany({ where: { id: clusterId } });
  const rows: RemovedClusterRows = {
    ingestKeys: keys.length,
    sensors: sensorIds.length,
    reports: reports.count,
    statsRollups,
    inventoryNodes: inventoryNodes.count,
    sensorDrifts: sensorDrifts.count,
  };
  return { removed: deleted.count > 0, keyIds: [...new Set(keys.map((key) => key.keyId))], rows };
}

async function announceRemoval(bus: LiveBus, clusterId: string, keyIds: string[], removed: boolean) {
  if (keyIds.length > 0)
    await publishTopicMany(
      bus,
      INGEST_KEYS_TOPIC,
      keyIds.map((keyId) => ({ keyId })),
    );
  if (removed) await publishTopic(bus, CLUSTER_CONNECTIONS_TOPIC, { clusterId, change: "removed" });
}

/**
 * Removes a cluster and everything recorded about it: its keys, connection,
 * sensors (with their chunks and actions, by cascade), their reports and
 * rollups, its inventory (coverage rows and runtime status) and its drift
 * verdicts, which reference no row and would otherwise stay. The leader hears of it on the
 * live bus, stops watching the cluster and tells open pages it is gone. Nothing to do
 * when there is no such cluster; returns whether there was.
 *
 * Its keys stop verifying at once on every replica: each replica's ingest
 * gateway caches verified keys, and hears through the live bus to forget them
 * (an agent still reporting is then refused as unknown, never written).
 */
export async function removeCluster(options: { db: Db; bus: LiveBus; clusterId: string }): Promise<boolean> {
  const { removed, keyIds } = await options.db.$transaction((tx) => deleteClusterRows(tx, options.clusterId));
  await announceRemoval(options.bus, options.clusterId, keyIds, removed);
  return removed;
}

/** Why a cluster may not be removed now, in words that name the way out; null when it may. */
async function findRemovalObstacle(
  db: Db | Tx,
  clusterId: string,
  allowManagedSensor: boolean,
): Promise<string | null> {
  const rollout = await db.rolloutCluster.findFirst({
    where: { clusterId, rollout: { status: { in: [...ACTIVE_ROLLOUT_STATUSES] } } },
    select: { rolloutId: true, rollout: { select: { status: true } } },
  });
  if (rollout)
    return `Rollout ${rollout.rolloutId} (${rollout.rollout.status}) is under way on cluster "${clusterId}": wait for it to end, or abort it, before removing the cluster.`;
  const debugLevel = await db.debugLevel.findUnique({
    where: { clusterId },
    select: { status: true, level: true, revertsAt: true },
  });
  if (debugLevel && (PENDING_DEBUG_LEVEL_STATUSES as readonly string[]).includes(debugLevel.status))
    return `A debug level (${debugLevel.level}, ${debugLevel.status}) is set on cluster "${clusterId}" until ${debugLevel.revertsAt.toISOString()}: revert it before removing the cluster, so that the sensor gets its previous level back.`;
  if (!allowManagedSensor) {
    const install = await db.sensorInstall.findUnique({
      where: { clusterId },
      select: { origin: true, namespace: true, name: true },
    });
    if (install)
      return `Tapfleet manages the ${install.origin} sensor ${install.namespace}/${install.name} in cluster "${clusterId}": uninstall it (DELETE /api/v1/clusters/${clusterId}/sensor) or release it (POST /api/v1/clusters/${clusterId}/sensor/release, or remove with releaseSensor=true) first.`;
  }
  return null;
}

/** The sensor a cluster's removal released: its DaemonSet and the objects Tapfleet stopped managing. */
export interface ReleasedSensor {
  origin: string;
  namespace: string;
  name: string;
  objects: { kind: string; name: string; namespace: string | null }[];
}

/**
 * Removes a cluster on request (the API's clusters.remove), refusing with
 * CONFLICT, and changing nothing, while a rollout or a debug level is under
 * way on it, or while Tapfleet manages a sensor there unless `releaseSensor`
 * says to release it (which deletes nothing in the Kubernetes cluster). Then
 * as removeCluster: keys, connection, sensors, reports, rollups, inventory and
 * drift verdicts go; audit events and rollout history stay. Agents still
 * running in the cluster are refused from then on (401 unknown_key).
 */
export async function deleteCluster(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  releaseSensor?: boolean;
}): Promise<{ rows: RemovedClusterRows; releasedSensor: ReleasedSensor | null }> {
  const { db, clusterId } = options;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  const obstacle = await findRemovalObstacle(db, clusterId, options.releaseSensor === true);
  if (obstacle) throw new AppError("CONFLICT", { userMessage: obstacle });
  let releasedSensor: ReleasedSensor | null = null;
  const install = options.releaseSensor
    ? await db.sensorInstall.findUnique({
        where: { clusterId },
        select: { origin: true, namespace: true, name: true },
      })
    : null;
  if (install) {
    const released = await releaseSensor({ db, bus: options.bus, secrets: options.secrets, clusterId });
    releasedSensor = { ...install, objects: released.released };
  }
  const { removed, keyIds, rows } = await db.$transaction(async (tx) => {
    // Checked again under the cluster's row lock: a rollout or debug level started meanwhile wins.
    await tx.$queryRaw`SELECT id FROM "Cluster" WHERE id = ${clusterId} FOR UPDATE`;
    const late = await findRemovalObstacle(tx, clusterId, false);
    if (late) throw new AppError("CONFLICT", { userMessage: late });
    return deleteClusterRows(tx, clusterId);
  });
  await announceRemoval(options.bus, clusterId, keyIds, removed);
  if (!removed) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  return { rows, releasedSensor };
}
