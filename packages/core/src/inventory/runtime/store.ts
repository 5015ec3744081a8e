// The persisted inventory: the leader writes each cluster's coverage rows and
// summary in batches; every replica reads them (a restarted server answers at
// once, a follower answers at all). Rows are keyed by cluster, node and
// DaemonSet; lists page by key (keyset), never by offset.

import { Prisma, type Db } from "@tapfleet/db";
import { AppError } from "../../errors.ts";
import { COVERAGE_STATES, type CoverageDetails, type CoverageState } from "../coverage.ts";
import type { CoverageSummary } from "../summary.ts";
import type { DaemonSetStatus } from "./topic.ts";

export interface CoverageRow {
  clusterId: string;
  nodeName: string;
  daemonSetNamespace: string;
  daemonSetName: string;
  state: CoverageState;
  reason: string;
  /** ISO timestamps. */
  since: string;
  shouldRun: boolean;
  changesAt: string | null;
  podName: string | null;
  sensorId: string | null;
  stale: boolean;
  details: CoverageDetails | null;
}

export interface ClusterRuntimeStatus {
  reachability: "connecting" | "reachable" | "unreachable";
  /** ISO timestamps. */
  reachableSince: string;
  serverVersion: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  nodeCount: number;
  syncedAt: string | null;
  stale: boolean;
}

export interface ClusterCoverageRecord extends ClusterRuntimeStatus {
  clusterId: string;
  summary: CoverageSummary;
  /** By DaemonSet `namespace/name`. */
  daemonSets: Record<string, CoverageSummary>;
  /** Each sensor DaemonSet's status as Kubernetes reports it, by `namespace/name`. */
  daemonSetStatus: Record<string, DaemonSetStatus>;
  updatedAt: string;
}

export const coverageRowKey = (row: {
  clusterId: string;
  nodeName: string;
  daemonSetNamespace: string;
  daemonSetName: string;
}): string =>
  `${row.clusterId}\u0000${row.nodeName}\u0000${row.daemonSetNamespace}\u0000${row.daemonSetName}`;

/**
 * Writes one cluster's changed rows, removes its vanished ones and replaces its
 * status and summary, in one transaction (readers never see half a batch).
 */
export async function writeInventoryBatch(options: {
  db: Db;
  clusterId: string;
  upserts: readonly CoverageRow[];
  deletes: readonly Pick<CoverageRow, "nodeName" | "daemonSetNamespace" | "daemonSetName">[];
  status: ClusterRuntimeStatus;
  summary: CoverageSummary;
  daemonSets: Record<string, CoverageSummary>;
  daemonSetStatus: Record<string, DaemonSetStatus>;
  now: Date;
}): Promise<void> {
  const { db, clusterId, now } = options;
  const statements: Prisma.PrismaPromise<unknown>[] = [];
  if (options.deletes.length > 0)
    statements.push(db.$executeRaw`
      DELETE FROM "InventoryCoverage" c
      USING jsonb_to_recordset(${JSON.stringify(options.deletes)}::jsonb)
        AS d("nodeName" text, "daemonSetNamespace" text, "daemonSetName" text)
      WHERE c."clusterId" = ${clusterId} AND c."nodeName" = d."nodeName"
        AND c."daemonSetNamespace" = d."daemonSetNamespace" AND c."daemonSetName" = d."daemonSetName"`);
  if (options.upserts.length > 0)
    statements.push(db.$executeRaw`
      INSERT INTO "InventoryCoverage" ("clusterId", "nodeName", "daemonSetNamespace", "daemonSetName", "state",
        "reason", "since", "shouldRun", "changesAt", "podName", "sensorId", "stale", "details", "updatedAt")
      SELECT r."clusterId", r."nodeName", r."daemonSetNamespace", r."daemonSetName", r."state", r."reason",
        r."since", r."shouldRun", r."changesAt", r."podName", r."sensorId", r."stale", r."details", ${now}
      FROM jsonb_to_recordset(${JSON.stringify(options.upserts)}::jsonb) AS r("clusterId" text, "nodeName" text,
        "daemonSetNamespace" text, "daemonSetName" text, "state" text, "reason" text, "since" timestamptz,
        "shouldRun" boolean, "changesAt" timestamptz, "podName" text, "sensorId" uuid, "stale" boolean,
        "details" jsonb)
      ON CONFLICT ("clusterId", "nodeName", "daemonSetNamespace", "daemonSetName") DO UPDATE SET
        "state" = EXCLUDED."state", "reason" = EXCLUDED."reason", "since" = EXCLUDED."since",
        "shouldRun" = EXCLUDED."shouldRun", "changesAt" = EXCLUDED."changesAt", "podName" = EXCLUDED."podName",
        "sensorId" = EXCLUDED."sensorId", "stale" = EXCLUDED."stale", "details" = EXCLUDED."details",
        "updatedAt" = EXCLUDED."updatedAt"`);
  const { status } = options;
  const cluster = {
    reachability: status.reachability,
    reachableSince: new Date(status.reachableSince),
    serverVersion: status.serverVersion,
    lastError: status.lastError,
    lastErrorAt: status.lastErrorAt === null ? null : new Date(status.lastErrorAt),
    nodeCount: status.nodeCount,
    syncedAt: status.syncedAt === null ? null : new Date(status.syncedAt),
    stale: status.stale,
    summary: {
      cluster: options.summary,
      daemonSets: options.daemonSets,
      daemonSetStatus: options.daemonSetStatus,
    } as unknown as Prisma.InputJsonValue,
    updatedAt: now,
  };
  statements.push(
    db.inventoryCluster.upsert({ where: { clusterId }, create: { clusterId, ...cluster }, update: cluster }),
  );
  await db.$transaction(statements);
}

/** The DaemonSet statuses persisted last for one cluster (kept while a restarted leader has not synced). */
export async function readDaemonSetStatuses(options: {
  db: Db;
  clusterId: string;
}): Promise<Record<string, DaemonSetStatus>> {
  const row = await options.db.inventoryCluster.findUnique({
    where: { clusterId: options.clusterId },
    select: { summary: true },
  });
  const summary = row?.summary as { daemonSetStatus?: Record<string, DaemonSetStatus> } | null | undefined;
  return summary?.daemonSetStatus ?? {};
}

/** Marks every persisted row and cluster stale: the leader's watches have not synced them yet. */
export async function markInventoryStale(options: { db: Db }): Promise<void> {
  await options.db.$transaction([
    options.db.inventoryCoverage.updateMany({ where: { stale: false }, data: { stale: true } }),
    options.db.$executeRaw`UPDATE "InventoryCluster" SET "stale" = true,
      "summary" = jsonb_set("summary", '{cluster,stale}', 'true'::jsonb)`,
  ]);
}

/** Forgets the inventory of clusters no longer watched (disconnected or deleted); returns the clusters it forgot. */
export async function deleteInventoryExcept(options: {
  db: Db;
  clusterIds: readonly string[];
}): Promise<string[]> {
  const keep = [...options.clusterIds];
  const [, clusters] = await options.db.$transaction([
    options.db.inventoryCoverage.deleteMany({ where: { clusterId: { notIn: keep } } }),
    options.db.$queryRaw<Array<{ clusterId: string }>>`
      DELETE FROM "InventoryCluster" WHERE NOT ("clusterId" = ANY(${keep}::text[])) RETURNING "clusterId"`,
  ]);
  return clusters.map((row) => row.clusterId);
}

/** The rows the leader wrote last for a cluster: a new term starts from them, so `since` survives. */
export async function readCoverageRows(options: { db: Db; clusterId: string }): Promise<CoverageRow[]> {
  const rows = await options.db.inventoryCoverage.findMany({ where: { clusterId: options.clusterId } });
  return rows.map((row) => ({
    clusterId: row.clusterId,
    nodeName: row.nodeName,
    daemonSetNamespace: row.daemonSetNamespace,
    daemonSetName: row.daemonSetName,
    state: row.state as CoverageState,
    reason: row.reason,
    since: row.since.toISOString(),
    shouldRun: row.shouldRun,
    changesAt: row.changesAt?.toISOString() ?? null,
    podName: row.podName,
    sensorId: row.sensorId,
    stale: row.stale,
    details: (row.details as CoverageDetails | null) ?? null,
  }));
}

// ---------------------------------------------------------------------------
// Reads (every replica)

/** A node's coverage by one DaemonSet, with the agent that reports from it. */
export interface InventoryNodeView {
  clusterId: string;
  nodeName: string;
  daemonSet: { namespace: string; name: string };
  state: CoverageState;
  reason: string;
  since: string;
  shouldRun: boolean;
  changesAt: string | null;
  stale: boolean;
  podName: string | null;
  /** CoverageDetails, as a plain record. */
  details: Record<string, unknown> | null;
  updatedAt: string;
  sensor: {
    id: string;
    agentVersion: string;
    lastSeenAt: string;
    /** The latest report summary as stored by ingest (cumulative counters), null before one. */
    lastSummary: unknown;
  } | null;
}

export const MAX_INVENTORY_PAGE = 500;

function encodeCursor(row: { nodeName: string; daemonSetNamespace: string; daemonSetName: string }): string {
  return Buffer.from(JSON.stringify([row.nodeName, row.daemonSetNamespace, row.daemonSetName])).toString(
    "base64url",
  );
}

function decodeCursor(cursor: string): [string, string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "string"))
      return value as [string, string, string];
  } catch {
    // answered below
  }
  throw new AppError("INVALID_INPUT", {
    field: "cursor",
    userMessage: "is not a cursor this list gave out; start again without one",
  });
}

interface JoinedRow {
  clusterId: string;
  nodeName: string;
  daemonSetNamespace: string;
  daemonSetName: string;
  state: string;
  reason: string;
  since: Date;
  shouldRun: boolean;
  changesAt: Date | null;
  podName: string | null;
  stale: boolean;
  details: unknown;
  updatedAt: Date;
  sensorId: string | null;
  agentVersion: string | null;
  lastSeenAt: Date | null;
  lastSummary: unknown;
}

/**
 * One page of a cluster's nodes (one item per node and sensor DaemonSet), by
 * node name, optionally of one state and matching a search in node or pod
 * names. `nextCursor` is null on the last page.
 */
export async function listInventoryNodes(options: {
  db: Db;
  clusterId: string;
  state?: CoverageState | undefined;
  search?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}): Promise<{ items: InventoryNodeView[]; nextCursor: string | null }> {
  const { db, clusterId, limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INVENTORY_PAGE)
    throw new AppError("INVALID_INPUT", {
      field: "limit",
      userMessage: `must be a whole number from 1 to ${MAX_INVENTORY_PAGE}`,
    });
  if (options.state !== undefined && !COVERAGE_STATES.includes(options.state))
    throw new AppError("INVALID_INPUT", {
      field: "state",
      userMessage: `must be one of ${COVERAGE_STATES.join(", ")}`,
    });
  const known =
    (await db.inventoryCluster.count({ where: { clusterId } })) > 0 ||
    (await db.cluster.count({ where: { id: clusterId } })) > 0;
  if (!known) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });

  const conditions: Prisma.Sql[] = [Prisma.sql`c."clusterId" = ${clusterId}`];
  if (options.state) conditions.push(Prisma.sql`c."state" = ${options.state}`);
  if (options.search) {
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(Prisma.sql`(c."nodeName" ILIKE ${pattern} OR c."podName" ILIKE ${pattern})`);
  }
  if (options.cursor) {
    const [node, namespace, name] = decodeCursor(options.cursor);
    conditions.push(
      Prisma.sql`(c."nodeName", c."daemonSetNamespace", c."daemonSetName") > (${node}, ${namespace}, ${name})`,
    );
  }
  const rows = await db.$queryRaw<JoinedRow[]>`
    SELECT c."clusterId", c."nodeName", c."daemonSetNamespace", c."daemonSetName", c."state", c."reason",
      c."since", c."shouldRun", c."changesAt", c."podName", c."stale", c."details", c."updatedAt",
      s."id" AS "sensorId", s."agentVersion", s."lastSeenAt", s."lastSummary"
    FROM "InventoryCoverage" c
    LEFT JOIN "Sensor" s ON s."id" = c."sensorId"
    WHERE ${Prisma.join(conditions, " AND ")}
    ORDER BY c."nodeName", c."daemonSetNamespace", c."daemonSetName"
    LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      clusterId: row.clusterId,
      nodeName: row.nodeName,
      daemonSet: { namespace: row.daemonSetNamespace, name: row.daemonSetName },
      state: row.state as CoverageState,
      reason: row.reason,
      since: row.since.toISOString(),
      shouldRun: row.shouldRun,
      changesAt: row.changesAt?.toISOString() ?? null,
      stale: row.stale,
      podName: row.podName,
      details: (row.details as Record<string, unknown> | null) ?? null,
      updatedAt: row.updatedAt.toISOString(),
      sensor:
        row.sensorId === null || row.lastSeenAt === null
          ? null
          : {
              id: row.sensorId,
              agentVersion: row.agentVersion ?? "",
              lastSeenAt: row.lastSeenAt.toISOString(),
              lastSummary: row.lastSummary ?? null,
            },
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

/** Every watched cluster's status and summary, by cluster id. */
export async function listClusterCoverage(options: { db: Db }): Promise<ClusterCoverageRecord[]> {
  const rows = await options.db.inventoryCluster.findMany({ orderBy: { clusterId: "asc" } });
  return rows.map((row) => {
    const summary = row.summary as unknown as {
      cluster: CoverageSummary;
      daemonSets: Record<string, CoverageSummary>;
      daemonSetStatus?: Record<string, DaemonSetStatus>;
    };
    return {
      clusterId: row.clusterId,
      reachability: row.reachability as ClusterRuntimeStatus["reachability"],
      reachableSince: row.reachableSince.toISOString(),
      serverVersion: row.serverVersion,
      lastError: row.lastError,
      lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
      nodeCount: row.nodeCount,
      syncedAt: row.syncedAt?.toISOString() ?? null,
      stale: row.stale,
      summary: summary.cluster,
      daemonSets: summary.daemonSets,
      // A summary written before the statuses were kept has none until the next write.
      daemonSetStatus: summary.daemonSetStatus ?? {},
      updatedAt: row.updatedAt.toISOString(),
    };
  });
}

/** Adds up summaries (the fleet from its clusters): counts add, the percentage is taken again. */
export function mergeCoverageSummaries(summaries: Iterable<CoverageSummary>): CoverageSummary {
  const counts = Object.fromEntries(COVERAGE_STATES.map((state) => [state, 0])) as Record<
    CoverageState,
    number
  >;
  const total: CoverageSummary = { counts, targeted: 0, covered: 0, coveragePercent: null, stale: false };
  for (const summary of summaries) {
    for (const state of COVERAGE_STATES) total.counts[state] += summary.counts[state] ?? 0;
    total.targeted += summary.targeted;
    total.covered += summary.covered;
    total.stale ||= summary.stale;
  }
  total.coveragePercent = total.targeted === 0 ? null : (total.covered / total.targeted) * 100;
  return total;
}
