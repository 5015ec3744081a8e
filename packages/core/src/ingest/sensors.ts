import type { Db } from "@tapfleet/db";
import { AppError } from "../errors.ts";

const SENSOR_FIELDS = {
  id: true,
  clusterId: true,
  nodeName: true,
  podName: true,
  agentVersion: true,
  configHash: true,
  firstSeenAt: true,
  lastSeenAt: true,
  lastSummary: true,
} as const;

/** Sensors as last seen through their reports, by cluster and node. */
export async function listSensors(options: { db: Db; clusterId?: string | undefined }) {
  return options.db.sensor.findMany({
    where: options.clusterId ? { clusterId: options.clusterId } : {},
    orderBy: [{ clusterId: "asc" }, { nodeName: "asc" }],
    select: SENSOR_FIELDS,
  });
}

/** One sensor as last seen; NOT_FOUND when there is none with this id. */
export async function getSensor(options: { db: Db; id: string }) {
  const sensor = await options.db.sensor.findUnique({ where: { id: options.id }, select: SENSOR_FIELDS });
  if (!sensor) throw new AppError("NOT_FOUND", { userMessage: `There is no sensor ${options.id}.` });
  return sensor;
}
