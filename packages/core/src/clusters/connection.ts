// A cluster's Kubernetes connection: one context of a kubeconfig, tested
// before it is saved, stored sealed with the master key, never handed out.
// Its status comes from the last connection test until the cluster's
// watchers report through `recordConnectionStatus`.

import type { Db, LiveBus } from "@tapfleet/db";
import {
  ConnectionTestFailure,
  KubeconfigProblem,
  listKubeconfigContexts,
  prepareConnection,
  testConnection,
  type KubeAuthKind,
  type KubeconfigContext,
} from "@tapfleet/kube";
import { PENDING_DEBUG_LEVEL_STATUSES } from "../debug-level/decide.ts";
import { AppError } from "../errors.ts";
import { defineTopic, publishTopic } from "../live/topics.ts";
import type { SecretBox } from "../secrets.ts";
import { z } from "zod";

export type ConnectionState = "reachable" | "unreachable" | "disabled";

/**
 * A cluster's connection was saved, enabled, disabled or removed (or the
 * cluster with it): the leader's inventory reconciles its watches at once on
 * it rather than on its next periodic round.
 */
export const CLUSTER_CONNECTIONS_TOPIC = defineTopic(
  "cluster-connections",
  z.object({ clusterId: z.string(), change: z.enum(["saved", "enabled", "disabled", "removed"]) }),
);

/**
 * What Tapfleet answers for in a cluster changed: a sensor was installed (or
 * installed again), adopted, released or uninstalled, or its record took an
 * adopted drift. The leader's drift watches reconcile at once on it rather
 * than on their next periodic round; a rollout, a debug level and a cluster's
 * connection announce themselves on their own topics.
 */
export const TRACKED_DAEMONSETS_TOPIC = defineTopic(
  "tracked-daemonsets",
  z.object({
    clusterId: z.string(),
    change: z.enum(["installed", "adopted", "released", "uninstalled", "record-changed"]),
  }),
);

/**
 * Announces a change of what Tapfleet answers for in a cluster. The change is
 * already stored and the announcement only saves the leader a wait, so a bus
 * that fails is reported to the server's log rather than failing the request:
 * the drift watches' periodic round finds the change within a minute.
 */
export async function announceTrackedDaemonSets(options: {
  bus: LiveBus;
  clusterId: string;
  change: z.input<typeof TRACKED_DAEMONSETS_TOPIC.schema>["change"];
}): Promise<void> {
  const { bus, clusterId, change } = options;
  await publishTopic(bus, TRACKED_DAEMONSETS_TOPIC, { clusterId, change }).catch((error: unknown) =>
    bus.reportError(
      new Error(`announcing a change of what is tracked in "${clusterId}" (${change})`, { cause: error }),
    ),
  );
}

/** What may be shown of a connection: where it points and how it is doing, never a credential. */
export interface ClusterConnectionView {
  context: string;
  server: string;
  authKind: KubeAuthKind;
  /** insecure-skip-tls-verify: the server's certificate is not checked; shown as a warning. */
  insecure: boolean;
  enabled: boolean;
  state: ConnectionState;
  /** Since when `state` holds. */
  since: Date;
  serverVersion: string | null;
  nodeCount: number | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** When the status was last checked (a connection test, or a watcher's report). */
  checkedAt: Date;
  updatedAt: Date;
}

interface ConnectionRow {
  context: string;
  server: string;
  authKind: string;
  insecure: boolean;
  enabled: boolean;
  state: string;
  stateSince: Date;
  serverVersion: string | null;
  nodeCount: number | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  checkedAt: Date;
  updatedAt: Date;
}

/** The view of a stored connection row. */
export function toClusterConnectionView(row: ConnectionRow): ClusterConnectionView {
  return {
    context: row.context,
    server: row.server,
    authKind: row.authKind === "client certificate" ? "client certificate" : "token",
    insecure: row.insecure,
    enabled: row.enabled,
    state: !row.enabled ? "disabled" : row.state === "reachable" ? "reachable" : "unreachable",
    since: row.enabled ? row.stateSince : row.updatedAt,
    serverVersion: row.serverVersion,
    nodeCount: row.nodeCount,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    checkedAt: row.checkedAt,
    updatedAt: row.updatedAt,
  };
}

/** A kubeconfig or connection problem as the input error it is, at its field. */
function asInputError(error: unknown): unknown {
  if (error instanceof KubeconfigProblem)
    return new AppError("INVALID_INPUT", { field: error.field, userMessage: error.message, cause: error });
  return error;
}

async function requireCluster(db: Db, clusterId: string): Promise<void> {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
}

/** The contexts of a kubeconfig, for choosing one; nothing is stored or contacted. */
export function listConnectionContexts(options: { kubeconfig: string }): {
  contexts: KubeconfigContext[];
  currentContext: string | undefined;
} {
  try {
    return listKubeconfigContexts(options);
  } catch (error) {
    throw asInputError(error);
  }
}

/**
 * Connects a cluster (or replaces its connection): checks the kubeconfig,
 * tests the chosen context, and only when the test passes stores the
 * context's kubeconfig sealed. A refusal names the field and stores nothing.
 */
export async function saveClusterConnection(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  kubeconfig: string;
  context?: string | undefined;
  /** Time limit of each request of the connection test (default 5 s). */
  timeoutMs?: number | undefined;
  now?: () => Date;
}): Promise<ClusterConnectionView> {
  const now = options.now ?? (() => new Date());
  await requireCluster(options.db, options.clusterId);
  let prepared;
  let tested;
  try {
    prepared = prepareConnection({ kubeconfig: options.kubeconfig, context: options.context });
    tested = await testConnection({ kubeconfig: prepared.minimalKubeconfig, timeoutMs: options.timeoutMs });
  } catch (error) {
    throw asInputError(error);
  }
  const at = now();
  const fields = {
    kubeconfigCiphertext: options.secrets.seal(prepared.minimalKubeconfig),
    context: prepared.summary.context,
    server: prepared.summary.server,
    authKind: prepared.summary.authKind,
    insecure: prepared.summary.insecure,
    enabled: true,
    updatedAt: at,
    state: "reachable",
    stateSince: at,
    serverVersion: tested.serverVersion,
    nodeCount: tested.nodeCount,
    lastError: null,
    lastErrorAt: null,
    checkedAt: at,
  };
  const row = await options.db.clusterConnection.upsert({
    where: { clusterId: options.clusterId },
    create: { clusterId: options.clusterId, createdAt: at, ...fields },
    update: fields,
  });
  await publishTopic(options.bus, CLUSTER_CONNECTIONS_TOPIC, {
    clusterId: options.clusterId,
    change: "saved",
  });
  return toClusterConnectionView(row);
}

async function requireConnection(db: Db, clusterId: string) {
  const row = await db.clusterConnection.findUnique({ where: { clusterId } });
  if (!row) {
    await requireCluster(db, clusterId);
    throw new AppError("NOT_FOUND", {
      userMessage: `The cluster "${clusterId}" has no Kubernetes connection.`,
    });
  }
  return row;
}

/** The connection's status, or null when the cluster has none. */
export async function getClusterConnection(options: {
  db: Db;
  clusterId: string;
}): Promise<ClusterConnectionView | null> {
  await requireCluster(options.db, options.clusterId);
  const row = await options.db.clusterConnection.findUnique({ where: { clusterId: options.clusterId } });
  return row ? toClusterConnectionView(row) : null;
}

/**
 * The stored kubeconfig (one context) in clear, for the cluster's watchers.
 * Never return it to a caller of the API.
 */
export async function openClusterConnection(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
}): Promise<{ kubeconfig: string; enabled: boolean }> {
  const row = await requireConnection(options.db, options.clusterId);
  return { kubeconfig: options.secrets.open(row.kubeconfigCiphertext), enabled: row.enabled };
}

/**
 * Every enabled connection with its kubeconfig in clear: what the leader's
 * cluster watchers watch. Never return it to a caller of the API.
 */
export async function listEnabledClusterConnections(options: {
  db: Db;
  secrets: SecretBox;
}): Promise<{ clusterId: string; kubeconfig: string; context: string }[]> {
  const rows = await options.db.clusterConnection.findMany({
    where: { enabled: true },
    select: { clusterId: true, kubeconfigCiphertext: true, context: true },
    orderBy: { clusterId: "asc" },
  });
  return rows.map((row) => ({
    clusterId: row.clusterId,
    kubeconfig: options.secrets.open(row.kubeconfigCiphertext),
    context: row.context,
  }));
}

/**
 * Records how the connection is doing: the seam through which the cluster's
 * watchers (and connection tests) report. `since` moves only when the state
 * changes; an error is kept, with its time, until a later success clears it.
 */
export async function recordConnectionStatus(options: {
  db: Db;
  clusterId: string;
  state: "reachable" | "unreachable";
  serverVersion?: string | undefined;
  nodeCount?: number | undefined;
  error?: string | null | undefined;
  at?: Date;
}): Promise<ClusterConnectionView> {
  const at = options.at ?? new Date();
  const row = await requireConnection(options.db, options.clusterId);
  const updated = await options.db.clusterConnection.update({
    where: { clusterId: options.clusterId },
    data: {
      state: options.state,
      ...(row.state === options.state ? {} : { stateSince: at }),
      ...(options.serverVersion === undefined ? {} : { serverVersion: options.serverVersion }),
      ...(options.nodeCount === undefined ? {} : { nodeCount: options.nodeCount }),
      ...(options.error === undefined
        ? {}
        : options.error === null
          ? { lastError: null, lastErrorAt: null }
          : { lastError: options.error, lastErrorAt: at }),
      checkedAt: at,
    },
  });
  return toClusterConnectionView(updated);
}

/** Tests the stored connection again and records the result; a failure is recorded, not thrown. */
export async function testClusterConnection(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  timeoutMs?: number | undefined;
  now?: () => Date;
}): Promise<ClusterConnectionView> {
  const now = options.now ?? (() => new Date());
  const { kubeconfig } = await openClusterConnection(options);
  try {
    const tested = await testConnection({ kubeconfig, timeoutMs: options.timeoutMs });
    return await recordConnectionStatus({
      db: options.db,
      clusterId: options.clusterId,
      state: "reachable",
      serverVersion: tested.serverVersion,
      nodeCount: tested.nodeCount,
      error: null,
      at: now(),
    });
  } catch (error) {
    if (!(error instanceof ConnectionTestFailure)) throw error;
    return recordConnectionStatus({
      db: options.db,
      clusterId: options.clusterId,
      // Refused credentials or permissions make the cluster as unusable as a dead server.
      state: "unreachable",
      error: error.message,
      at: now(),
    });
  }
}

/** Stops (or resumes) using the connection without forgetting it. */
export async function setClusterConnectionEnabled(options: {
  db: Db;
  bus: LiveBus;
  clusterId: string;
  enabled: boolean;
  now?: () => Date;
}): Promise<ClusterConnectionView> {
  const at = (options.now ?? (() => new Date()))();
  const row = await requireConnection(options.db, options.clusterId);
  const updated = await options.db.clusterConnection.update({
    where: { clusterId: options.clusterId },
    data: {
      enabled: options.enabled,
      updatedAt: at,
      ...(options.enabled && !row.enabled ? { stateSince: at } : {}),
    },
  });
  await publishTopic(options.bus, CLUSTER_CONNECTIONS_TOPIC, {
    clusterId: options.clusterId,
    change: options.enabled ? "enabled" : "disabled",
  });
  return toClusterConnectionView(updated);
}

/**
 * Forgets the connection (the cluster and its ingest keys stay). A debug level
 * still in force ends with it: without a connection it can be neither followed
 * nor put back, so it is recorded as failed, saying what stays in the cluster.
 */
export async function removeClusterConnection(options: {
  db: Db;
  bus: LiveBus;
  clusterId: string;
  now?: () => Date;
}): Promise<void> {
  const { db, clusterId } = options;
  await requireConnection(db, clusterId);
  const at = (options.now ?? (() => new Date()))();
  await db.$transaction(async (tx) => {
    await tx.clusterConnection.delete({ where: { clusterId } });
    const level = await tx.debugLevel.findUnique({ where: { clusterId } });
    if (level && (PENDING_DEBUG_LEVEL_STATUSES as readonly string[]).includes(level.status))
      await tx.debugLevel.update({
        where: { clusterId },
        data: {
          status: "failed",
          lastError: `The cluster's Kubernetes connection was removed before the level was put back: OSSENSOR_DEBUG stays at ${level.level} on ${level.namespace}/${level.daemonSetName} until it is changed in the cluster.`,
          updatedAt: at,
        },
      });
  });
  await publishTopic(options.bus, CLUSTER_CONNECTIONS_TOPIC, { clusterId, change: "removed" });
}
