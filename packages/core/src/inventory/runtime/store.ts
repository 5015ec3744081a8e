// The persisted inventory: the leader writes each cluster's coverage rows and
// summary in batches; every replica reads them (a restarted server answers at
// once, a follower answers at all). Rows are keyed by cluster, node and
// DaemonSet. The nodes tables' listing is in node-query.ts.

import type { Db, PgPool } from "@tapfleet/db";
import { AppError } from "../../errors.ts";
import { COVERAGE_STATES, type CoverageDetails, type CoverageState } from "../coverage.ts";
import { unknownClusters } from "./node-query.ts";
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
 *
 * Through node-postgres, not Prisma: a first sync writes 5,000 rows per cluster as
 * one JSON parameter, and Prisma's query compiler copies such a parameter in and
 * out of its WebAssembly memory (which never shrinks): measured for 20 × 5,000
 * rows at once, 3× the time and 5× the peak memory of the same statements here.
 * A batch waits for a connection of `pool` as long as it takes.
 */
export async function writeInventoryBatch(options: {
  pool: PgPool;
  clusterId: string;
  upserts: readonly CoverageRow[];
  deletes: readonly Pick<CoverageRow, "nodeName" | "daemonSetNamespace" | "daemonSetName">[];
  status: ClusterRuntimeStatus;
  summary: CoverageSummary;
  daemonSets: Record<string, CoverageSummary>;
  daemonSetStatus: Record<string, DaemonSetStatus>;
  now: Date;
}): Promise<void> {
  const { clusterId, now, status } = options;
  const client = await options.pool.connect();
  try {
    await client.query("BEGIN");
    if (options.deletes.length > 0)
      await client.query(
        `DELETE FROM "InventoryCoverage" c
        USING jsonb_to_recordset($2::jsonb)
          AS d("nodeName" text, "daemonSetNamespace" text, "daemonSetName" text)
        WHERE c."clusterId" = $1 AND c."nodeName" = d."nodeName"
          AND c."daemonSetNamespace" = d."daemonSetNamespace" AND c."daemonSetName" = d."daemonSetName"`,
        [clusterId, JSON.stringify(options.deletes)],
      );
    if (options.upserts.length > 0)
      await client.query(
        `INSERT INTO "InventoryCoverage" ("clusterId", "nodeName", "daemonSetNamespace", "daemonSetName", "state",
          "reason", "since", "shouldRun", "changesAt", "podName", "sensorId", "stale", "details", "updatedAt")
        SELECT r."clusterId", r."nodeName", r."daemonSetNamespace", r."daemonSetName", r."state", r."reason",
          r."since", r."shouldRun", r."changesAt", r."podName", r."sensorId", r."stale", r."details", $2
        FROM jsonb_to_recordset($1::jsonb) AS r("clusterId" text, "nodeName" text,
          "daemonSetNamespace" text, "daemonSetName" text, "state" text, "reason" text, "since" timestamptz,
          "shouldRun" boolean, "changesAt" timestamptz, "podName" text, "sensorId" uuid, "stale" boolean,
          "details" jsonb)
        ON CONFLICT ("clusterId", "nodeName", "daemonSetNamespace", "daemonSetName") DO UPDATE SET
          "state" = EXCLUDED."state", "reason" = EXCLUDED."reason", "since" = EXCLUDED."since",
          "shouldRun" = EXCLUDED."shouldRun", "changesAt" = EXCLUDED."changesAt", "podName" = EXCLUDED."podName",
          "sensorId" = EXCLUDED."sensorId", "stale" = EXCLUDED."stale", "details" = EXCLUDED."details",
          "updatedAt" = EXCLUDED."updatedAt"`,
        [JSON.stringify(options.upserts), now],
      );
    await client.query(
      `INSERT INTO "InventoryCluster" ("clusterId", "reachability", "reachableSince", "serverVersion", "lastError",
        "lastErrorAt", "nodeCount", "syncedAt", "stale", "summary", "updatedAt")
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
      ON CONFLICT ("clusterId") DO UPDATE SET
        "reachability" = EXCLUDED."reachability", "reachableSince" = EXCLUDED."reachableSince",
        "serverVersion" = EXCLUDED."serverVersion", "lastError" = EXCLUDED."lastError",
        "lastErrorAt" = EXCLUDED."lastErrorAt", "nodeCount" = EXCLUDED."nodeCount",
        "syncedAt" = EXCLUDED."syncedAt", "stale" = EXCLUDED."stale", "summary" = EXCLUDED."summary",
        "updatedAt" = EXCLUDED."updatedAt"`,
      [
        clusterId,
        status.reachability,
        new Date(status.reachableSince),
        status.serverVersion,
        status.lastError,
        status.lastErrorAt === null ? null : new Date(status.lastErrorAt),
        status.nodeCount,
        status.syncedAt === null ? null : new Date(status.syncedAt),
        status.stale,
        JSON.stringify({
          cluster: options.summary,
          daemonSets: options.daemonSets,
          daemonSetStatus: options.daemonSetStatus,
        }),
        now,
      ],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
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

/**
 * The inventory controller's own transactions: they begin a round (or a term),
 * and a failed one fails the round, whose next try a second later only adds to
 * the load that made it wait. Waiting for a pooled connection is right here, so
 * they wait up to 10 s instead of Prisma's 2 s (the wait that failed a round
 * while a 50-cluster rollout kept the pool busy); their statements are short,
 * and the time-out only guards against a stuck connection.
 */
const ROUND_TRANSACTION = { maxWait: 10_000, timeout: 30_000 } as const;

/** Marks every persisted row and cluster stale: the leader's watches have not synced them yet. */
export async function markInventoryStale(options: { db: Db }): Promise<void> {
  await options.db.$transaction(
    [
      options.db.inventoryCoverage.updateMany({ where: { stale: false }, data: { stale: true } }),
      options.db.$executeRaw`UPDATE "InventoryCluster" SET "stale" = true,
      "summary" = jsonb_set("summary", '{cluster,stale}', 'true'::jsonb)`,
    ],
    ROUND_TRANSACTION,
  );
}

/** Forgets the inventory of clusters no longer watched (disconnected or deleted); returns the clusters it forgot. */
export async function deleteInventoryExcept(options: {
  db: Db;
  clusterIds: readonly string[];
}): Promise<string[]> {
  const keep = [...options.clusterIds];
  const [, clusters] = await options.db.$transaction(
    [
      options.db.inventoryCoverage.deleteMany({ where: { clusterId: { notIn: keep } } }),
      options.db.$queryRaw<Array<{ clusterId: string }>>`
      DELETE FROM "InventoryCluster" WHERE NOT ("clusterId" = ANY(${keep}::text[])) RETURNING "clusterId"`,
    ],
    ROUND_TRANSACTION,
  );
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

/**
 * Every watched cluster's status and summary, by cluster id; with `clusterId`, that cluster's
 * alone (none while it is not watched yet). A cluster Tapfleet does not know is NOT_FOUND.
 */
export async function listClusterCoverage(options: {
  db: Db;
  clusterId?: string;
}): Promise<ClusterCoverageRecord[]> {
  const { db, clusterId } = options;
  const [rows, unknown] = await Promise.all([
    db.inventoryCluster.findMany({
      ...(clusterId === undefined ? {} : { where: { clusterId } }),
      orderBy: { clusterId: "asc" },
    }),
    clusterId === undefined ? [] : unknownClusters({ db, clusterIds: [clusterId] }),
  ]);
  if (unknown.length > 0) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
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
