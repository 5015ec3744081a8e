// The nodes tables' listing against a real PostgreSQL: every sort in both orders pages through
// ties without repeating or skipping a row, with and without each filter; bad values name their
// field; and each sort the indexes are meant to serve is read in index order, without a sort.
import type { Prisma } from "@tapfleet/db";
import { createDb, createPgPool, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { COVERAGE_STATE_SEVERITY, COVERAGE_STATES, type CoverageState } from "../coverage.ts";
import { summarizeCoverage } from "../summary.ts";
import {
  listFleetNodes,
  listInventoryNodes,
  NODE_SORTS,
  nodesPageQuery,
  SORT_ORDERS,
  type InventoryNodeView,
  type NodeSort,
  type SortOrder,
} from "./node-query.ts";
import { writeInventoryBatch, type CoverageRow } from "./store.ts";

let database: TestDatabase;
let db: Db;

const CLUSTERS = ["ca", "cb", "cc"];
const SINCE = ["2026-12-01T10:00:00.000Z", "2026-12-02T10:00:00.000Z", "2026-12-03T10:00:00.123Z"];
const NOW = new Date("2026-12-05T10:00:00Z");

/**
 * 3 clusters × 6 nodes with the same names in each cluster, two DaemonSets on some nodes, states
 * and `since` drawn from short cycles: every sort column has many ties.
 */
function fixtureRows(): CoverageRow[] {
  const rows: CoverageRow[] = [];
  let i = 0;
  for (const clusterId of CLUSTERS)
    for (let n = 1; n <= 6; n++) {
      const nodeName = `n${String(n).padStart(2, "0")}`;
      for (const daemonSet of n % 3 === 0 ? ["da", "db"] : ["da"]) {
        const state = COVERAGE_STATES[i % 4 === 0 ? 8 : i % COVERAGE_STATES.length]!;
        rows.push({
          clusterId,
          nodeName,
          daemonSetNamespace: "tf",
          daemonSetName: daemonSet,
          state,
          reason: `${state} on ${nodeName}`,
          since: SINCE[i % SINCE.length]!,
          shouldRun: state !== "excluded",
          changesAt: null,
          podName: `pod-${clusterId}-${nodeName}-${daemonSet}`,
          sensorId: null,
          stale: false,
          details: null,
        });
        i++;
      }
    }
  return rows;
}
const ROWS = fixtureRows();

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
  const pool = createPgPool({ url: database.url, max: 1, onError: () => undefined });
  for (const clusterId of CLUSTERS) {
    const upserts = ROWS.filter((row) => row.clusterId === clusterId);
    await writeInventoryBatch({
      pool,
      clusterId,
      upserts,
      deletes: [],
      status: {
        reachability: "reachable",
        reachableSince: NOW.toISOString(),
        serverVersion: "v1.31.0",
        lastError: null,
        lastErrorAt: null,
        nodeCount: 6,
        syncedAt: NOW.toISOString(),
        stale: false,
      },
      summary: summarizeCoverage({ nodes: [] }).fleet,
      daemonSets: {},
      daemonSetStatus: {},
      now: NOW,
    });
  }
  await pool.end();
  await db.cluster.create({ data: { id: "registered-empty" } });
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.stop();
});

// ---------------------------------------------------------------------------
// The order a person expects, written independently of the query

const rank = (state: CoverageState) => COVERAGE_STATE_SEVERITY.indexOf(state);
const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const rowKey = (row: {
  clusterId: string;
  nodeName: string;
  daemonSetNamespace: string;
  daemonSetName: string;
}) => [row.clusterId, row.nodeName, row.daemonSetNamespace, row.daemonSetName];

function expectedOrder(rows: CoverageRow[], sort: NodeSort, order: SortOrder): string[] {
  const first = (row: CoverageRow): (string | number)[] =>
    sort === "node"
      ? [row.nodeName, row.clusterId, row.daemonSetNamespace, row.daemonSetName]
      : sort === "state"
        ? [rank(row.state), ...rowKey(row)]
        : sort === "since"
          ? [row.since, ...rowKey(row)]
          : rowKey(row);
  const sorted = [...rows].sort((a, b) => {
    const [x, y] = [first(a), first(b)];
    for (let i = 0; i < x.length; i++) {
      const c = compare(x[i]!, y[i]!);
      if (c !== 0) return order === "asc" ? c : -c;
    }
    return 0;
  });
  return sorted.map((row) => rowKey(row).join("/"));
}

const itemKey = (item: InventoryNodeView) =>
  [item.clusterId, item.nodeName, item.daemonSet.namespace, item.daemonSet.name].join("/");

async function readAll(
  list: (cursor: string | undefined) => Promise<{ items: InventoryNodeView[]; nextCursor: string | null }>,
): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    pages++;
    keys.push(...page.items.map(itemKey));
    cursor = page.nextCursor ?? undefined;
    if (pages > 100) throw new Error("the cursor never ends");
  } while (cursor !== undefined);
  return { keys, pages };
}

describe("the state rank", () => {
  it("orders every state of the vocabulary once, problems first, and the database ranks rows the same way", async () => {
    expect([...COVERAGE_STATE_SEVERITY].sort()).toEqual([...COVERAGE_STATES].sort());
    const stored = await db.$queryRaw<Array<{ state: string; stateRank: number }>>`
      SELECT DISTINCT "state", "stateRank" FROM "InventoryCoverage"`;
    expect(stored.length).toBe(COVERAGE_STATES.length);
    for (const { state, stateRank } of stored) expect(stateRank).toBe(rank(state as CoverageState));
  });
});

describe("listing nodes", () => {
  const cases = NODE_SORTS.flatMap((sort) =>
    SORT_ORDERS.flatMap((order) => [
      { sort, order, filter: "none" as const },
      { sort, order, filter: "state" as const },
      { sort, order, filter: "clusters" as const },
      { sort, order, filter: "search" as const },
    ]),
  );

  it.each(cases)(
    "fleet-wide by $sort $order, filtered by $filter, pages through ties in order",
    async (c) => {
      const state = c.filter === "state" ? ROWS[0]!.state : undefined;
      const clusterIds = c.filter === "clusters" ? ["cc", "ca"] : undefined;
      const search = c.filter === "search" ? "N03" : undefined;
      const expected = expectedOrder(
        ROWS.filter(
          (row) =>
            (state === undefined || row.state === state) &&
            (clusterIds === undefined || clusterIds.includes(row.clusterId)) &&
            (search === undefined || row.podName!.includes(search.toLowerCase())),
        ),
        c.sort,
        c.order,
      );
      expect(expected.length).toBeGreaterThan(3);
      const { keys, pages } = await readAll((cursor) =>
        listFleetNodes({ db, clusterIds, state, search, sort: c.sort, order: c.order, cursor, limit: 3 }),
      );
      expect(keys).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / 3));
    },
  );

  it.each(NODE_SORTS.flatMap((sort) => SORT_ORDERS.map((order) => ({ sort, order }))))(
    "one cluster by $sort $order, with and without a state, pages through ties in order",
    async ({ sort, order }) => {
      for (const state of [undefined, "excluded" as const]) {
        const expected = expectedOrder(
          ROWS.filter((row) => row.clusterId === "cb" && (state === undefined || row.state === state)),
          sort,
          order,
        );
        const { keys } = await readAll((cursor) =>
          listInventoryNodes({ db, clusterId: "cb", state, sort, order, cursor, limit: 2 }),
        );
        expect(keys).toEqual(expected);
      }
    },
  );

  it("sorts by state with the problems first, and returns each row's fields", async () => {
    const page = await listFleetNodes({ db, sort: "state", limit: 500 });
    expect(page.nextCursor).toBeNull();
    const ranks = page.items.map((item) => rank(item.state));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(page.items[0]!.state).toBe("crash-looping");
    expect(page.items.at(-1)!.state).toBe("excluded");
    const row = ROWS.find((r) => itemKey(page.items[0]!) === rowKey(r).join("/"))!;
    expect(page.items[0]).toEqual({
      clusterId: row.clusterId,
      nodeName: row.nodeName,
      daemonSet: { namespace: "tf", name: row.daemonSetName },
      state: row.state,
      reason: row.reason,
      since: row.since,
      shouldRun: row.shouldRun,
      changesAt: null,
      stale: false,
      podName: row.podName,
      details: null,
      updatedAt: NOW.toISOString(),
      sensor: null,
    });
  });

  it("answers a known cluster without nodes with an empty page", async () => {
    expect(await listInventoryNodes({ db, clusterId: "registered-empty", limit: 10 })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(await listFleetNodes({ db, clusterIds: ["registered-empty"], limit: 10 })).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

describe("refusing bad values", () => {
  async function refusal(
    promise: Promise<unknown>,
  ): Promise<{ code: string; field?: string; message: string }> {
    const error = await promise.then(
      () => {
        throw new Error("accepted");
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    return { code: appError.code, field: appError.field, message: appError.userMessage };
  }

  it.each([
    ["sort", { sort: "rate" as NodeSort }, /node, state, since, cluster/],
    ["order", { order: "up" as SortOrder }, /asc or desc/],
    ["state", { state: "happy" as CoverageState }, /covered/],
    ["limit", { limit: 501 }, /1 to 500/],
    ["cursor", { cursor: "bm90IGEgY3Vyc29y" }, /not a cursor/],
  ])("names the field %s", async (field, bad, message) => {
    const answer = await refusal(listFleetNodes({ db, limit: 10, ...bad }));
    expect(answer).toMatchObject({ code: "INVALID_INPUT", field });
    expect(answer.message).toMatch(message);
  });

  it("refuses a cursor of another sort order instead of answering a wrong page", async () => {
    const first = await listFleetNodes({ db, sort: "since", order: "asc", limit: 2 });
    const answer = await refusal(
      listFleetNodes({ db, sort: "since", order: "desc", cursor: first.nextCursor!, limit: 2 }),
    );
    expect(answer).toMatchObject({ code: "INVALID_INPUT", field: "cursor" });
    expect(answer.message).toContain("sorted by since asc");
  });

  it("refuses a cluster filter naming an unknown cluster, and an unknown cluster's own list is not found", async () => {
    const answer = await refusal(listFleetNodes({ db, clusterIds: ["ca", "nowhere"], limit: 10 }));
    expect(answer).toMatchObject({ code: "INVALID_INPUT", field: "cluster" });
    expect(answer.message).toContain('"nowhere"');
    expect(answer.message).not.toContain('"ca"');
    expect(await refusal(listInventoryNodes({ db, clusterId: "nowhere", limit: 10 }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("the indexes", () => {
  /** The plan with sorting priced out: a Sort node left means no index gives the order. */
  async function plan(query: Prisma.Sql): Promise<string> {
    const [, , rows] = await db.$transaction([
      db.$executeRaw`SET LOCAL enable_sort = off`,
      db.$executeRaw`SET LOCAL enable_seqscan = off`,
      db.$queryRaw<Array<{ "QUERY PLAN": string }>>`EXPLAIN ${query}`,
    ]);
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  }
  const cursorOf = async (options: Parameters<typeof listFleetNodes>[0]) =>
    (await listFleetNodes({ ...options, limit: 1 })).nextCursor!;

  it.each([
    { name: "fleet by node", sort: "node" as const, index: "nodeName_clusterId" },
    { name: "fleet by state", sort: "state" as const, index: "stateRank_clusterId" },
    { name: "fleet by since", sort: "since" as const, index: "since_clusterId" },
    { name: "fleet by cluster", sort: "cluster" as const, index: "pkey" },
    { name: "one cluster by node", sort: "node" as const, clusterIds: ["cb"], index: "pkey" },
    {
      name: "one cluster by state",
      sort: "state" as const,
      clusterIds: ["cb"],
      index: "stateRank_clusterId",
    },
    {
      name: "one cluster, one state, by node",
      sort: "node" as const,
      clusterIds: ["cb"],
      state: "covered" as const,
      index: "stateRank_clusterId",
    },
    {
      name: "one state by cluster",
      sort: "cluster" as const,
      state: "covered" as const,
      index: "stateRank_clusterId",
    },
  ])("reads $name in the order of its index ($index), both ways, from a cursor", async ({ index, ...c }) => {
    for (const order of SORT_ORDERS) {
      const cursor = await cursorOf({ db, ...c, order, limit: 1 });
      const text = await plan(nodesPageQuery({ ...c, order, cursor, limit: 100 }));
      expect(text).toMatch(new RegExp(`Index (Only )?Scan( Backward)? using "?InventoryCoverage_${index}`));
      expect(text).not.toMatch(/\bSort\b/);
      expect(text).toMatch(/Index Cond: .*ROW\(/);
    }
  });
});

describe("the search", () => {
  const matching = async (search: string) =>
    (await listFleetNodes({ db, search, limit: 500 })).items.map(itemKey).sort();
  const expected = (part: string) =>
    ROWS.filter((row) => `${row.nodeName} ${row.podName}`.toLowerCase().includes(part.toLowerCase()))
      .map((row) => rowKey(row).join("/"))
      .sort();

  it.each(["N03", "pod-CB-n0", "3", "b"])(
    "finds %s in node or pod names, whatever the case and however short",
    async (search) => {
      expect(expected(search).length).toBeGreaterThan(0);
      expect(await matching(search)).toEqual(expected(search));
    },
  );

  it.each([
    ["%", "any run of characters"],
    ["n_1", "any one character (n01, n11…)"],
    ["pod-ca%da", "any run of characters"],
    ["\\", "the escape character"],
  ])("takes %s literally, not as %s", async (search) => {
    expect(await matching(search)).toEqual([]);
  });

  it("is answered from the trigram index on node and pod names for a term of 3 characters or more", async () => {
    // With the plain scans priced out, the planner can only use an index that matches the query's
    // shape: ILIKE on each column, escaped pattern and all.
    const [, , rows] = await db.$transaction([
      db.$executeRaw`SET LOCAL enable_seqscan = off`,
      db.$executeRaw`SET LOCAL enable_indexscan = off`,
      db.$queryRaw<
        Array<{ "QUERY PLAN": string }>
      >`EXPLAIN ${nodesPageQuery({ search: "n_03", limit: 100 })}`,
    ]);
    const text = rows.map((row) => row["QUERY PLAN"]).join("\n");
    expect(text.match(/Bitmap Index Scan on "InventoryCoverage_nodeName_podName_idx"/g)).toHaveLength(2);
    expect(text).toMatch(/Index Cond: \("nodeName" ~~\* '%n\\_03%'::text\)/);
    expect(text).toMatch(/Index Cond: \("podName" ~~\* '%n\\_03%'::text\)/);
  });
});
