// The persisted inventory: the leader writes each cluster's coverage rows and
// summary in batches; every replica reads them (a restarted server answers at
// once, a follower answers at all). Rows are keyed by cluster, node and
// DaemonSet. The nodes tables' listing is in node-query.ts.

import type { Db, Prisma } from "@tapfleet/db";
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
  // A first sync writes every cluster's rows at once (20 clusters × 5,000 rows) through a
  // pool of ten connections: a batch may queue for a connection well past Prisma's 2 s
  // default, and that is no error (the batch would only be tried again, later).
  await db.$transaction(statements, { maxWait: 60_000, timeout: 60_000 });
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
