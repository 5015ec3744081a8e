// Time-boxed debug levels: what the API calls. A request checks the cluster
// and its sensor DaemonSet and records the wish ("applying"); the leader's
// runner (runner.ts) patches the DaemonSet, follows the rollout and puts the
// previous value back when the time is up, also after a restart, since all it
// needs is in the DebugLevel row.

import type { Db, LiveBus } from "@tapfleet/db";
import {
  KubeRequestError,
  listSensorDaemonSets,
  loadKubeConfig,
  readTemplateEnv,
  findCaptureContainer,
} from "@tapfleet/kube";
import { DEBUG_LEVEL_VARIABLE } from "@tapfleet/sensor/debug-level";
import { z } from "zod";
import { getClusterConnection, openClusterConnection } from "../clusters/connection.ts";
import { AppError } from "../errors.ts";
import { defineTopic, publishTopic } from "../live/topics.ts";
import type { SecretBox } from "../secrets.ts";
import { ACTIVE_ROLLOUT_STATUSES, IN_FLIGHT_CLUSTER_STATUSES } from "../rollouts/schema.ts";
import { PENDING_DEBUG_LEVEL_STATUSES, type DebugLevelStatus } from "./decide.ts";

/** "A debug level changed in this cluster": wakes the leader's runner and the dashboards. */
export const DEBUG_LEVEL_TOPIC = defineTopic("debug-level", z.object({ clusterId: z.string() }));

export interface DebugLevelView {
  clusterId: string;
  daemonSet: { namespace: string; name: string };
  container: string;
  level: number;
  /** The variable's value before: a level, or null when it was absent (the revert removes it). */
  previousLevel: number | null;
  setAt: Date;
  setBy: string;
  revertsAt: Date;
  status: DebugLevelStatus;
  lastError: string | null;
}

export interface DebugLevelRow {
  clusterId: string;
  namespace: string;
  daemonSetName: string;
  container: string;
  level: number;
  previousLevel: string | null;
  setAt: Date;
  setBy: string;
  revertsAt: Date;
  status: string;
  lastError: string | null;
  updatedAt: Date;
}

/** A previous value as a level; a value that is not one (a reference, say) shows as null but is kept as it was. */
function previousAsLevel(value: string | null): number | null {
  return value !== null && /^[0-9]+$/.test(value) ? Number(value) : null;
}

export function toDebugLevelView(row: DebugLevelRow): DebugLevelView {
  return {
    clusterId: row.clusterId,
    daemonSet: { namespace: row.namespace, name: row.daemonSetName },
    container: row.container,
    level: row.level,
    previousLevel: previousAsLevel(row.previousLevel),
    setAt: row.setAt,
    setBy: row.setBy,
    revertsAt: row.revertsAt,
    status: row.status as DebugLevelStatus,
    lastError: row.lastError,
  };
}

/** A client configuration for one cluster, as the kube package loads it. */
type KubeConfig = ReturnType<typeof loadKubeConfig>;

const isPending = (status: string) => (PENDING_DEBUG_LEVEL_STATUSES as readonly string[]).includes(status);

/**
 * The stored connection as a client configuration: a cluster without one (or
 * with a disabled one) is a CONFLICT that says how to connect it.
 */
export async function connectDebugLevelCluster(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
}): Promise<KubeConfig> {
  const { clusterId } = options;
  const connection = await getClusterConnection({ db: options.db, clusterId });
  if (!connection)
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}" has no Kubernetes connection: connect it first (PUT /api/v1/clusters/${clusterId}/connection).`,
    });
  if (!connection.enabled)
    throw new AppError("CONFLICT", {
      userMessage: `The Kubernetes connection of cluster "${clusterId}" is disabled: enable it first.`,
    });
  const { kubeconfig } = await openClusterConnection(options);
  const kubeConfig = loadKubeConfig(kubeconfig);
  kubeConfig.setCurrentContext(connection.context);
  return kubeConfig;
}

function unreachable(clusterId: string, error: unknown): unknown {
  if (error instanceof KubeRequestError && (error.status === 0 || error.status >= 500))
    return new AppError("UNAVAILABLE", {
      userMessage: `The Kubernetes API of cluster "${clusterId}" did not answer: ${error.message}`,
      cause: error,
    });
  return error;
}

/** The cluster's debug level (the last one, whatever its status), or null when none was ever set. */
export async function getDebugLevel(options: { db: Db; clusterId: string }): Promise<DebugLevelView | null> {
  const row = await options.db.debugLevel.findUnique({ where: { clusterId: options.clusterId } });
  return row ? toDebugLevelView(row) : null;
}

/**
 * Sets OSSENSOR_DEBUG to `level` on the cluster's sensor DaemonSet for
 * `minutes`; the leader applies it and puts the previous value back at the end.
 * A cluster with several sensor DaemonSets needs `daemonSet`. A new level while
 * one is pending replaces it and keeps the value from before the first.
 */
export async function setDebugLevel(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  level: number;
  minutes: number;
  daemonSet?: { namespace: string; name: string } | undefined;
  setBy: string;
  now?: Date;
}): Promise<DebugLevelView> {
  const { db, clusterId } = options;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  // A rollout changing (or about to change) this cluster's template would take the level for a
  // change made outside it and roll the cluster back.
  const rollout = await db.rolloutCluster.findFirst({
    where: {
      clusterId,
      status: { in: ["pending", ...IN_FLIGHT_CLUSTER_STATUSES] },
      rollout: { status: { in: [...ACTIVE_ROLLOUT_STATUSES] } },
    },
    select: { rolloutId: true, rollout: { select: { status: true } } },
  });
  if (rollout)
    throw new AppError("CONFLICT", {
      userMessage: `Rollout ${rollout.rolloutId} (${rollout.rollout.status}) is still to change cluster "${clusterId}": wait for it to end, or abort it, before setting a debug level.`,
    });
  const kubeConfig = await connectDebugLevelCluster(options);
  const daemonSets = await listSensorDaemonSets({ kubeConfig }).catch((error: unknown) => {
    throw unreachable(clusterId, error);
  });
  const names = daemonSets.map((d) => `${d.namespace}/${d.name}`);
  let target;
  if (options.daemonSet) {
    const { namespace, name } = options.daemonSet;
    target = daemonSets.find((d) => d.namespace === namespace && d.name === name);
    if (!target)
      throw new AppError("INVALID_INPUT", {
        field: "daemonSet",
        userMessage: `no sensor DaemonSet ${namespace}/${name} in cluster "${clusterId}"${names.length > 0 ? ` (it has ${names.join(", ")})` : ""}`,
      });
  } else if (daemonSets.length === 0) {
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}" has no sensor DaemonSet to set a debug level on.`,
    });
  } else if (daemonSets.length > 1) {
    throw new AppError("INVALID_INPUT", {
      field: "daemonSet",
      userMessage: `is required: cluster "${clusterId}" has ${daemonSets.length} sensor DaemonSets (${names.join(", ")}); name one as {namespace, name}`,
    });
  } else {
    target = daemonSets[0]!;
  }
  const container = findCaptureContainer(target);
  if (!container)
    throw new AppError("CONFLICT", {
      userMessage: `DaemonSet ${target.namespace}/${target.name} has no capture container (none carries VSENSOR_HOSTNAME).`,
    });

  const existing = await db.debugLevel.findUnique({ where: { clusterId } });
  const replacing = existing && isPending(existing.status) ? existing : null;
  if (replacing && (replacing.namespace !== target.namespace || replacing.daemonSetName !== target.name))
    throw new AppError("CONFLICT", {
      userMessage: `A debug level is still set on DaemonSet ${replacing.namespace}/${replacing.daemonSetName}; revert it before setting one on ${target.namespace}/${target.name}.`,
    });
  const observed = readTemplateEnv(target, DEBUG_LEVEL_VARIABLE);
  const previousLevel = replacing ? replacing.previousLevel : (observed ?? null);
  const now = options.now ?? new Date();
  const values = {
    namespace: target.namespace,
    daemonSetName: target.name,
    container: container.name,
    level: options.level,
    previousLevel,
    setAt: now,
    setBy: options.setBy,
    revertsAt: new Date(now.getTime() + options.minutes * 60_000),
    status: "applying",
    lastError: null,
    updatedAt: now,
  };
  const row = await db.debugLevel.upsert({
    where: { clusterId },
    create: { clusterId, ...values },
    update: values,
  });
  await publishTopic(options.bus, DEBUG_LEVEL_TOPIC, { clusterId });
  return toDebugLevelView(row);
}

/** Puts the previous value back now instead of at the end of the time. */
export async function revertDebugLevel(options: {
  db: Db;
  bus: LiveBus;
  clusterId: string;
  now?: Date;
}): Promise<DebugLevelView> {
  const { db, clusterId } = options;
  const now = options.now ?? new Date();
  const existing = await db.debugLevel.findUnique({ where: { clusterId } });
  if (!existing || !isPending(existing.status))
    throw new AppError("CONFLICT", { userMessage: `No debug level is set on cluster "${clusterId}".` });
  // Guarded by the row as read: a leader's step in between wins, and the caller may try again.
  const updated = await db.debugLevel.updateMany({
    where: { clusterId, status: existing.status, setAt: existing.setAt },
    data: {
      status: "reverting",
      revertsAt: existing.revertsAt < now ? existing.revertsAt : now,
      updatedAt: now,
    },
  });
  if (updated.count === 0)
    throw new AppError("CONFLICT", {
      userMessage: `The debug level of cluster "${clusterId}" changed meanwhile; look again and retry.`,
    });
  await publishTopic(options.bus, DEBUG_LEVEL_TOPIC, { clusterId });
  return toDebugLevelView((await db.debugLevel.findUnique({ where: { clusterId } }))!);
}
