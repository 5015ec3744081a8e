// npm run bench:nodes-query — the nodes tables' query at fleet scale, on its own: 20 clusters ×
// 5,000 nodes (100,000 coverage rows) written through the inventory's write path into an
// embedded PostgreSQL, then each sort × filter read as the dashboard reads it (a first page of
// 100, and a page 5,000 rows in), timed through the domain function, with EXPLAIN ANALYZE's
// execution time and the index (or the sort) the plan used. Last, what the indexes cost the
// writer: every row rewritten with a new state, and the whole fleet written into an empty table,
// with the search's trigram index and without it, then with the sort indexes and without them.
//
//   npm run bench:nodes-query
//   npm run bench:nodes-query -- --clusters 2 --nodes 1000     # a quick check
//   npm run bench:nodes-query -- --write-rounds 4              # more turns of the write measure
import { parseArgs } from "node:util";
import { createDb, createPgPool, Prisma, type Db } from "@tapfleet/db";
import { createTestDatabase } from "@tapfleet/db/testing";
import {
  COVERAGE_STATES,
  listFleetNodes,
  listInventoryNodes,
  nodesPageQuery,
  summarizeCoverage,
  writeInventoryBatch,
  type CoverageRow,
  type CoverageState,
  type NodeSort,
  type SortOrder,
} from "../src/index.ts";

const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "20" },
    nodes: { type: "string", default: "5000" },
    requests: { type: "string", default: "20" },
    "write-rounds": { type: "string", default: "2" },
  },
});
const CLUSTERS = Number(args.clusters);
const NODES = Number(args.nodes);
const REQUESTS = Number(args.requests);
const WRITE_ROUNDS = Number(args["write-rounds"]);
const PAGE = 100;
const NOW = new Date();

const clusterId = (i: number) => `bench-${String(i).padStart(2, "0")}`;

/** A fleet as it looks on a bad day: mostly covered, some of every problem. */
function stateOf(i: number): CoverageState {
  const roll = (i * 7919) % 1000;
  if (roll < 850) return "covered";
  if (roll < 900) return "excluded";
  if (roll < 940) return "silent";
  if (roll < 960) return "starting";
  if (roll < 975) return "pending";
  if (roll < 985) return "crash-looping";
  if (roll < 993) return "not-scheduled";
  return "node-not-ready";
}

function rowsOf(cluster: number, shift: number): CoverageRow[] {
  const rows: CoverageRow[] = [];
  for (let n = 0; n < NODES; n++) {
    const i = cluster * NODES + n + shift;
    const state = stateOf(i);
    rows.push({
      clusterId: clusterId(cluster),
      nodeName: `node-${String(n).padStart(5, "0")}`,
      daemonSetNamespace: "tapfleet",
      daemonSetName: "sensor",
      state,
      reason: `${state} (bench)`,
      since: new Date(NOW.getTime() - ((i * 104729) % (7 * 86_400_000))).toISOString(),
      shouldRun: state !== "excluded",
      changesAt: null,
      podName: state === "not-scheduled" ? null : `sensor-${cluster}-${n}`,
      sensorId: null,
      stale: false,
      details: null,
    });
  }
  return rows;
}

let databaseUrl = "";

async function writeFleet(db: Db, shift: number): Promise<number> {
  const started = performance.now();
  const pool = createPgPool({ url: databaseUrl, max: 1, onError: () => undefined });
  for (let c = 0; c < CLUSTERS; c++)
    await writeInventoryBatch({
      pool,
      clusterId: clusterId(c),
      upserts: rowsOf(c, shift),
      deletes: [],
      status: {
        reachability: "reachable",
        reachableSince: NOW.toISOString(),
        serverVersion: "v1.31.0",
        lastError: null,
        lastErrorAt: null,
        nodeCount: NODES,
        syncedAt: NOW.toISOString(),
        stale: false,
      },
      summary: summarizeCoverage({ nodes: [] }).fleet,
      daemonSets: {},
      daemonSetStatus: {},
      now: NOW,
    });
  await pool.end();
  await db.$executeRaw`ANALYZE "InventoryCoverage"`;
  return performance.now() - started;
}

interface Case {
  name: string;
  sort: NodeSort;
  order: SortOrder;
  clusterIds?: string[];
  state?: CoverageState;
  search?: string;
}

function cases(): Case[] {
  const list: Case[] = [];
  for (const sort of ["node", "state", "since", "cluster"] as const)
    for (const order of ["asc", "desc"] as const) {
      list.push({ name: "fleet", sort, order });
      if (order === "asc") {
        list.push({ name: "one cluster", sort, order, clusterIds: [clusterId(1)] });
        list.push({ name: "two clusters", sort, order, clusterIds: [clusterId(0), clusterId(CLUSTERS - 1)] });
        list.push({ name: "state=silent", sort, order, state: "silent" });
        list.push({ name: "state=node-not-ready", sort, order, state: "node-not-ready" });
        list.push({
          name: "one cluster, state=crash-looping",
          sort,
          order,
          clusterIds: [clusterId(1)],
          state: "crash-looping",
        });
        list.push({ name: "search=node-0042", sort, order, search: "node-0042" });
        list.push({ name: "search=sensor-3-1234 (a pod)", sort, order, search: "sensor-3-1234" });
        // Shorter than a trigram: the index cannot answer these.
        list.push({ name: "search=42 (2 characters)", sort, order, search: "42" });
        list.push({ name: "search=q (1 character, no match)", sort, order, search: "q" });
      }
    }
  return list;
}

const list = (db: Db, c: Case, cursor: string | undefined, limit = PAGE) =>
  c.clusterIds?.length === 1
    ? listInventoryNodes({ db, clusterId: c.clusterIds[0]!, ...c, cursor, limit })
    : listFleetNodes({ db, ...c, cursor, limit });

async function timed(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 3; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function explain(db: Db, c: Case, cursor: string | undefined): Promise<{ ms: number; plan: string }> {
  const rows = await db.$queryRaw<
    Array<{ "QUERY PLAN": string }>
  >`EXPLAIN (ANALYZE, BUFFERS) ${nodesPageQuery({ ...c, cursor, limit: PAGE })}`;
  const text = rows.map((row) => row["QUERY PLAN"]);
  const ms = Number(/Execution Time: ([\d.]+) ms/.exec(text.join("\n"))?.[1] ?? NaN);
  const index = text
    .map((line) => /(Index (?:Only )?Scan(?: Backward)?) using "?(\w+)"?/.exec(line))
    .find(Boolean);
  const bitmap = [
    ...new Set(
      text.flatMap((line) => {
        const name = /Bitmap Index Scan on "?(\w+)"?/.exec(line)?.[1];
        return name ? [name.replace(/^InventoryCoverage_/, "").replace(/_idx$/, "")] : [];
      }),
    ),
  ];
  const sorted = text.some((line) => /\bSort\b/.test(line) && !/Sort Key|Sort Method/.test(line));
  const seq = text.some((line) => /Seq Scan on "?InventoryCoverage/.test(line));
  const how = index
    ? `${index[1]} ${index[2]!.replace(/^InventoryCoverage_/, "").replace(/_idx$/, "")}`
    : seq
      ? "Seq Scan"
      : `Bitmap ${bitmap.join(", ")}`;
  return { ms, plan: `${how}${sorted ? " + Sort" : ""}` };
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

async function main(): Promise<void> {
  const database = await createTestDatabase();
  databaseUrl = database.url;
  const db = createDb({ url: database.url, maxConnections: 4 });
  try {
    const rows = CLUSTERS * NODES;
    console.log(`nodes query bench: ${CLUSTERS} clusters × ${NODES} nodes = ${rows} rows`);
    const firstWrite = await writeFleet(db, 0);
    console.log(`written through writeInventoryBatch in ${(firstWrite / 1000).toFixed(1)} s`);

    console.log(
      "\n| query | sort | first page p50 / p99 (ms) | EXPLAIN ANALYZE (ms) | plan | page 51 (ms) | plan |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const c of cases()) {
      const first = await timed(() => list(db, c, undefined));
      const plan = await explain(db, c, undefined);
      // A cursor 5,000 rows in (10 pages of 500), where offset paging would read 5,000 rows first.
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) cursor = (await list(db, c, cursor, 500)).nextCursor ?? undefined;
      const deep = cursor === undefined ? null : await explain(db, c, cursor);
      console.log(
        `| ${c.name} | ${c.sort} ${c.order} | ${fmt(first.p50)} / ${fmt(first.p99)} | ${fmt(plan.ms)} | ${plan.plan} | ${
          deep ? fmt(deep.ms) : "–"
        } | ${deep ? deep.plan : "(fewer rows)"} |`,
      );
    }

    // What the search's trigram index costs the writer, twice each way in turn: every row rewritten
    // (state and since change), and the fleet written into an empty table (a first sync).
    const TRIGRAM = `"InventoryCoverage_nodeName_podName_idx"`;
    const trigramDefinition = (
      await db.$queryRaw<Array<{ indexdef: string }>>`
        SELECT indexdef FROM pg_indexes WHERE indexname = 'InventoryCoverage_nodeName_podName_idx'`
    )[0]?.indexdef;
    if (!trigramDefinition) throw new Error("the search's trigram index is missing");
    const writes = {
      rewrite: { with: [] as number[], without: [] as number[] },
      first: { with: [] as number[], without: [] as number[] },
    };
    let shift = 1;
    for (let round = 0; round < WRITE_ROUNDS; round++)
      for (const trigram of ["with", "without"] as const) {
        if (trigram === "without") await db.$executeRawUnsafe(`DROP INDEX ${TRIGRAM}`);
        else if (round > 0) await db.$executeRawUnsafe(trigramDefinition);
        writes.rewrite[trigram].push(await writeFleet(db, shift++));
        await db.$executeRawUnsafe(`TRUNCATE "InventoryCoverage"`);
        writes.first[trigram].push(await writeFleet(db, shift++));
      }
    const seconds = (times: number[]) => times.map((ms) => (ms / 1000).toFixed(1)).join(" and ");
    console.log(
      `\nrewriting all ${rows} rows (every state changes): ${seconds(writes.rewrite.with)} s with the trigram index, ` +
        `${seconds(writes.rewrite.without)} s without it`,
    );
    console.log(
      `writing all ${rows} rows into an empty table: ${seconds(writes.first.with)} s with the trigram index, ` +
        `${seconds(writes.first.without)} s without it`,
    );

    // What the three sort indexes cost the writer (the trigram index dropped): every row changes
    // state and since.
    const withIndexes = await writeFleet(db, shift++);
    await db.$executeRawUnsafe(`
      DROP INDEX "InventoryCoverage_stateRank_clusterId_nodeName_daemonSetNam_idx";
      DROP INDEX "InventoryCoverage_nodeName_clusterId_daemonSetNamespace_dae_idx";
      DROP INDEX "InventoryCoverage_since_clusterId_nodeName_daemonSetNamespa_idx";
      CREATE INDEX ON "InventoryCoverage" ("clusterId", "state", "nodeName", "daemonSetNamespace", "daemonSetName");`);
    const withoutIndexes = await writeFleet(db, shift++);
    console.log(
      `\nrewriting all ${rows} rows (every state changes): ${(withIndexes / 1000).toFixed(1)} s with the sort indexes, ` +
        `${(withoutIndexes / 1000).toFixed(1)} s with the previous (clusterId, state, …) index only`,
    );
    const states = await db.$queryRaw<Array<{ state: string; n: bigint }>>(
      Prisma.sql`SELECT "state", count(*) AS n FROM "InventoryCoverage" GROUP BY 1 ORDER BY 2 DESC`,
    );
    console.log(
      `states: ${states.map((s) => `${s.state} ${s.n}`).join(", ")} (of ${COVERAGE_STATES.length} in the vocabulary)`,
    );
  } finally {
    await db.$disconnect();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
