// The nodes tables' listing: one cluster's nodes or the fleet's, filtered by cluster, state and a
// search, sorted by node, state (problems first), since or cluster, paged by keyset. Every sort
// ends in the row's key (cluster, node, DaemonSet), so ties never repeat or skip a row across
// pages, and each sort has an index that starts the same way (prisma/schema.prisma), so the first
// page reads a page's worth of index, not the table.

import { Prisma, type Db } from "@tapfleet/db";
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { z } from "zod";
import { AppError } from "../../errors.ts";
import { COVERAGE_STATE_SEVERITY, COVERAGE_STATES, type CoverageState } from "../coverage.ts";
import { ZCoverageStateSchema } from "./topic.ts";

/**
 * What a nodes table sorts by. The live rates are not among them: they are computed from the
 * agents' reports as they stream (no column holds a current rate), and a column rewritten by every
 * report of 100,000 sensors, indexed, would cost the ingest more than the sort is worth.
 */
export const NODE_SORTS = ["node", "state", "since", "cluster"] as const;
export type NodeSort = (typeof NODE_SORTS)[number];
export const SORT_ORDERS = ["asc", "desc"] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export const MAX_INVENTORY_PAGE = 500;
/** The most clusters one fleet-wide query filters by. */
export const MAX_CLUSTER_FILTER = 100;

const ZLimitSchema = z.coerce
  .number()
  .int("must be an integer")
  .min(1, "must be at least 1")
  .max(MAX_INVENTORY_PAGE, `must be at most ${MAX_INVENTORY_PAGE}`)
  .default(100);

/** The filters, sort and paging of a cluster's node list (the dashboard's URL and the API's input). */
export const ZInventoryNodesQuerySchema = z.object({
  state: ZCoverageStateSchema.optional(),
  /** Part of a node or pod name. */
  search: z.string().trim().max(253, "must be at most 253 characters").optional(),
  sort: z
    .enum(NODE_SORTS, { error: `must be one of ${NODE_SORTS.join(", ")}` })
    .default("node")
    .describe("node, state (by severity, problems first), since (when the state began) or cluster"),
  order: z.enum(SORT_ORDERS, { error: "must be asc or desc" }).default("asc"),
  cursor: z.string().max(2048, "must be a cursor returned by a previous page").optional(),
  limit: ZLimitSchema,
});

/** The fleet's node list: the same, with a filter by one or several clusters (`?cluster=a&cluster=b`). */
export const ZFleetNodesQuerySchema = ZInventoryNodesQuerySchema.extend({
  cluster: z
    .preprocess(
      (value) => (typeof value === "string" ? [value] : value),
      z
        .array(ZClusterIdSchema)
        .min(1, "must name at least one cluster")
        .max(MAX_CLUSTER_FILTER, `must name at most ${MAX_CLUSTER_FILTER} clusters`),
    )
    .optional()
    .describe("Only these clusters' nodes; repeat the parameter for several."),
});

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

export interface InventoryNodesPage {
  items: InventoryNodeView[];
  /** null on the last page. */
  nextCursor: string | null;
}

interface NodesFilter {
  state?: CoverageState | undefined;
  search?: string | undefined;
  sort?: NodeSort | undefined;
  order?: SortOrder | undefined;
  cursor?: string | undefined;
  limit: number;
}

/**
 * One page of a cluster's nodes (one item per node and sensor DaemonSet), optionally of one state
 * and matching a search in node or pod names, sorted (by node name unless asked otherwise).
 * An unknown cluster is NOT_FOUND.
 */
export async function listInventoryNodes(
  options: NodesFilter & { db: Db; clusterId: string },
): Promise<InventoryNodesPage> {
  const { db, clusterId } = options;
  checkFilter(options);
  if ((await unknownClusters({ db, clusterIds: [clusterId] })).length > 0)
    throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  return queryNodes({ ...options, clusterIds: [clusterId] });
}

/**
 * One page of the fleet's nodes, of every cluster or of the clusters named, with the same
 * filters, sorts and items as a cluster's list. A cluster named that Tapfleet does not know is
 * refused (INVALID_INPUT on `cluster`) rather than answered with nothing.
 */
export async function listFleetNodes(
  options: NodesFilter & { db: Db; clusterIds?: readonly string[] | undefined },
): Promise<InventoryNodesPage> {
  const { db } = options;
  checkFilter(options);
  const clusterIds = options.clusterIds === undefined ? undefined : [...new Set(options.clusterIds)];
  if (clusterIds !== undefined) {
    if (clusterIds.length === 0 || clusterIds.length > MAX_CLUSTER_FILTER)
      throw new AppError("INVALID_INPUT", {
        field: "cluster",
        userMessage: `must name from 1 to ${MAX_CLUSTER_FILTER} clusters`,
      });
    const unknown = await unknownClusters({ db, clusterIds });
    if (unknown.length > 0)
      throw new AppError("INVALID_INPUT", {
        field: "cluster",
        userMessage: `names no cluster Tapfleet knows: ${unknown.map((id) => `"${id}"`).join(", ")}`,
      });
  }
  return queryNodes({ ...options, clusterIds });
}

// ---------------------------------------------------------------------------
// Validation the schema already does for the API, repeated for callers in the server

function checkFilter(options: NodesFilter): void {
  const { limit } = options;
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
  if (options.sort !== undefined && !NODE_SORTS.includes(options.sort))
    throw new AppError("INVALID_INPUT", {
      field: "sort",
      userMessage: `must be one of ${NODE_SORTS.join(", ")}`,
    });
  if (options.order !== undefined && !SORT_ORDERS.includes(options.order))
    throw new AppError("INVALID_INPUT", { field: "order", userMessage: "must be asc or desc" });
}

/** The ids among these that are neither registered nor in the inventory. */
/** Of `clusterIds`, those Tapfleet neither has registered nor watches. */
export async function unknownClusters(options: { db: Db; clusterIds: readonly string[] }): Promise<string[]> {
  const ids = [...options.clusterIds];
  const [registered, watched] = await Promise.all([
    options.db.cluster.findMany({ where: { id: { in: ids } }, select: { id: true } }),
    options.db.inventoryCluster.findMany({ where: { clusterId: { in: ids } }, select: { clusterId: true } }),
  ]);
  const known = new Set([...registered.map((c) => c.id), ...watched.map((c) => c.clusterId)]);
  return ids.filter((id) => !known.has(id));
}

// ---------------------------------------------------------------------------
// Sort keys and cursors

type KeyColumn = "stateRank" | "since" | "clusterId" | "nodeName" | "daemonSetNamespace" | "daemonSetName";

const SORT_COLUMN: Record<NodeSort, KeyColumn> = {
  node: "nodeName",
  state: "stateRank",
  since: "since",
  cluster: "clusterId",
};
const ROW_KEY: KeyColumn[] = ["clusterId", "nodeName", "daemonSetNamespace", "daemonSetName"];

/**
 * The columns a page is ordered by: the sort column, then the row's key. A column the filters
 * hold constant (one state, one cluster) orders nothing, so it may move to the front, where the
 * indexes have it: one cluster by node is the primary key, one state by anything but since is the
 * (stateRank, clusterId, nodeName…) index. The order of the rows is the same either way.
 */
export function nodeSortKey(options: {
  sort: NodeSort;
  oneState: boolean;
  oneCluster: boolean;
}): KeyColumn[] {
  const { sort } = options;
  const columns: KeyColumn[] = [
    ...(options.oneState || sort === "state" ? (["stateRank"] as const) : []),
    ...(options.oneCluster || sort === "cluster" ? (["clusterId"] as const) : []),
    SORT_COLUMN[sort],
    ...ROW_KEY,
  ];
  return [...new Set(columns)];
}

/** What a cursor holds: the sort it belongs to and the last row's values of every key column. */
const ZCursorSchema = z.tuple([
  z.enum(NODE_SORTS),
  z.enum(SORT_ORDERS),
  z.number().int(),
  z.iso.datetime(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
]);
type CursorValues = Record<KeyColumn, string | number>;

function encodeCursor(sort: NodeSort, order: SortOrder, row: JoinedRow): string {
  const value: z.input<typeof ZCursorSchema> = [
    sort,
    order,
    row.stateRank,
    row.since.toISOString(),
    row.clusterId,
    row.nodeName,
    row.daemonSetNamespace,
    row.daemonSetName,
  ];
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodeCursor(cursor: string, sort: NodeSort, order: SortOrder): CursorValues {
  let parsed: z.output<typeof ZCursorSchema> | undefined;
  try {
    parsed = ZCursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    // answered below
  }
  if (!parsed)
    throw new AppError("INVALID_INPUT", {
      field: "cursor",
      userMessage: "is not a cursor this list gave out; start again without one",
    });
  const [cursorSort, cursorOrder, stateRank, since, clusterId, nodeName, namespace, name] = parsed;
  if (cursorSort !== sort || cursorOrder !== order)
    throw new AppError("INVALID_INPUT", {
      field: "cursor",
      userMessage: `belongs to the list sorted by ${cursorSort} ${cursorOrder}, not by ${sort} ${order}; start again without one`,
    });
  return {
    stateRank,
    since,
    clusterId,
    nodeName,
    daemonSetNamespace: namespace,
    daemonSetName: name,
  };
}

function cursorValue(column: KeyColumn, values: CursorValues): Prisma.Sql {
  const value = values[column];
  if (column === "stateRank") return Prisma.sql`${value}::smallint`;
  if (column === "since") return Prisma.sql`${value}::timestamptz`;
  return Prisma.sql`${value}`;
}

// ---------------------------------------------------------------------------
// The query

interface JoinedRow {
  clusterId: string;
  nodeName: string;
  daemonSetNamespace: string;
  daemonSetName: string;
  stateRank: number;
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

/** The SQL text of a page's query, for EXPLAIN in tests and the benchmark. */
export function nodesPageQuery(
  options: Omit<NodesFilter, "limit"> & { clusterIds?: readonly string[] | undefined; limit: number },
): Prisma.Sql {
  const sort = options.sort ?? "node";
  const order = options.order ?? "asc";
  const clusterIds = options.clusterIds;
  const key = nodeSortKey({
    sort,
    oneState: options.state !== undefined,
    oneCluster: clusterIds?.length === 1,
  });
  const conditions: Prisma.Sql[] = [];
  if (clusterIds?.length === 1) conditions.push(Prisma.sql`c."clusterId" = ${clusterIds[0]}`);
  else if (clusterIds !== undefined)
    conditions.push(Prisma.sql`c."clusterId" = ANY(${[...clusterIds]}::text[])`);
  if (options.state !== undefined)
    conditions.push(
      Prisma.sql`c."stateRank" = ${COVERAGE_STATE_SEVERITY.indexOf(options.state)}::smallint`,
      Prisma.sql`c."state" = ${options.state}`,
    );
  if (options.search) {
    // Answered from the trigram index on both columns (prisma/schema.prisma). A term of one or two
    // characters holds no trigram, so the planner reads a sort index with this as a filter (fast
    // when such a short term matches many rows) or the table (≈ 70 ms at 100,000 rows on a quiet
    // machine when it matches few): still correct, only slower. docs/benchmarks.md, "nodes query".
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(Prisma.sql`(c."nodeName" ILIKE ${pattern} OR c."podName" ILIKE ${pattern})`);
  }
  const columns = Prisma.join(
    key.map((column) => Prisma.raw(`c."${column}"`)),
    ", ",
  );
  if (options.cursor !== undefined) {
    const values = decodeCursor(options.cursor, sort, order);
    const after = Prisma.join(
      key.map((column) => cursorValue(column, values)),
      ", ",
    );
    conditions.push(
      order === "asc" ? Prisma.sql`(${columns}) > (${after})` : Prisma.sql`(${columns}) < (${after})`,
    );
  }
  const direction = order === "asc" ? "ASC" : "DESC";
  const orderBy = Prisma.join(
    key.map((column) => Prisma.raw(`c."${column}" ${direction}`)),
    ", ",
  );
  return Prisma.sql`
    SELECT c."clusterId", c."nodeName", c."daemonSetNamespace", c."daemonSetName", c."stateRank", c."state",
      c."reason", c."since", c."shouldRun", c."changesAt", c."podName", c."stale", c."details", c."updatedAt",
      s."id" AS "sensorId", s."agentVersion", s."lastSeenAt", s."lastSummary"
    FROM "InventoryCoverage" c
    LEFT JOIN "Sensor" s ON s."id" = c."sensorId"
    WHERE ${conditions.length > 0 ? Prisma.join(conditions, " AND ") : Prisma.sql`TRUE`}
    ORDER BY ${orderBy}
    LIMIT ${options.limit + 1}`;
}

async function queryNodes(
  options: NodesFilter & { db: Db; clusterIds: readonly string[] | undefined },
): Promise<InventoryNodesPage> {
  const { db, limit } = options;
  const sort = options.sort ?? "node";
  const order = options.order ?? "asc";
  const rows = await db.$queryRaw<JoinedRow[]>(nodesPageQuery({ ...options, sort, order }));
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
    nextCursor: rows.length > limit && last ? encodeCursor(sort, order, last) : null,
  };
}
