// The nodes lists over REST, as CI calls them: GET /api/v1/nodes (the fleet's, filtered by one or
// several clusters) and GET /api/v1/clusters/{id}/nodes, sorted and paged by cursor, for a viewer;
// a bad value is refused naming its field, and an anonymous caller is told to sign in.
import { summarizeCoverage, writeInventoryBatch, type CoverageRow } from "@tapfleet/core";
import { createPgPool } from "@tapfleet/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
let token: string;
const NOW = new Date("2026-12-05T10:00:00Z");

interface NodesPage {
  items: Array<{ clusterId: string; nodeName: string; state: string; since: string }>;
  nextCursor: string | null;
}

interface ErrorBody {
  error: { code: string; message: string; fieldErrors?: Record<string, string[]> };
}

function row(clusterId: string, nodeName: string, state: CoverageRow["state"], since: string): CoverageRow {
  return {
    clusterId,
    nodeName,
    daemonSetNamespace: "tapfleet",
    daemonSetName: "sensor",
    state,
    reason: `${state} here`,
    since,
    shouldRun: state !== "excluded",
    changesAt: null,
    podName: `sensor-${nodeName}`,
    sensorId: null,
    stale: false,
    details: null,
  };
}

const ROWS: Record<string, CoverageRow[]> = {
  alpha: [
    row("alpha", "node-a", "covered", "2026-12-01T00:00:00.000Z"),
    row("alpha", "node-b", "crash-looping", "2026-12-03T00:00:00.000Z"),
    row("alpha", "node-c", "silent", "2026-12-02T00:00:00.000Z"),
  ],
  beta: [
    row("beta", "node-a", "excluded", "2026-12-04T00:00:00.000Z"),
    row("beta", "node-b", "covered", "2026-12-01T00:00:00.000Z"),
  ],
  gamma: [row("gamma", "node-z", "crash-looping", "2026-11-30T00:00:00.000Z")],
};

beforeAll(async () => {
  t = await startTestServer();
  token = (await t.userWithToken("viewer", "nodes-viewer")).token;
  const pool = createPgPool({ url: t.database.url, max: 1, onError: () => undefined });
  for (const [clusterId, upserts] of Object.entries(ROWS)) {
    await t.db.cluster.create({ data: { id: clusterId } });
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
        nodeCount: upserts.length,
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
});
afterAll(async () => {
  await t?.stop();
});

async function get<T>(path: string, auth = true): Promise<{ status: number; body: T }> {
  const response = await fetch(`${t.url}/api/v1${path}`, {
    headers: auth ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function readAll(path: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const query: string = cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : "";
    const { status, body }: { status: number; body: NodesPage } = await get<NodesPage>(`${path}${query}`);
    expect(status, JSON.stringify(body)).toBe(200);
    names.push(...body.items.map((item) => `${item.clusterId}/${item.nodeName}`));
    cursor = body.nextCursor;
  } while (cursor !== null);
  return names;
}

describe("GET /api/v1/nodes", () => {
  it("lists every cluster's nodes by state, problems first, a page at a time", async () => {
    expect(await readAll("/nodes?sort=state&limit=2")).toEqual([
      "alpha/node-b",
      "gamma/node-z",
      "alpha/node-c",
      "alpha/node-a",
      "beta/node-b",
      "beta/node-a",
    ]);
  });

  it("filters by several clusters (the parameter repeated) and by one, and sorts by since newest first", async () => {
    expect(await readAll("/nodes?cluster=alpha&cluster=beta&sort=since&order=desc&limit=2")).toEqual([
      "beta/node-a",
      "alpha/node-b",
      "alpha/node-c",
      "beta/node-b",
      "alpha/node-a",
    ]);
    expect(await readAll("/nodes?cluster=gamma")).toEqual(["gamma/node-z"]);
    expect(await readAll("/nodes?state=crash-looping&sort=cluster&order=desc")).toEqual([
      "gamma/node-z",
      "alpha/node-b",
    ]);
    expect(await readAll("/nodes?search=NODE-A&sort=node")).toEqual(["alpha/node-a", "beta/node-a"]);
  });

  it("sorts a cluster's own list the same way", async () => {
    expect(await readAll("/clusters/alpha/nodes?sort=state&order=desc&limit=1")).toEqual([
      "alpha/node-a",
      "alpha/node-c",
      "alpha/node-b",
    ]);
  });

  it.each([
    ["/nodes?sort=packets", "sort"],
    ["/nodes?order=sideways", "order"],
    ["/nodes?state=happy", "state"],
    ["/nodes?cluster=alpha&cluster=nowhere", "cluster"],
    ["/nodes?cluster=Not_A_Label", "cluster.0"],
    ["/nodes?limit=0", "limit"],
    ["/clusters/alpha/nodes?sort=rate", "sort"],
  ])("refuses %s naming the field %s", async (path, field) => {
    const { status, body } = await get<ErrorBody>(path);
    expect(status).toBe(400);
    expect(body.error.code).toBe("INVALID_INPUT");
    expect(body.error.message).toMatch(new RegExp(`^${field}: `));
    expect(Object.keys(body.error.fieldErrors ?? {})).toEqual([field.split(".")[0]]);
  });

  it("refuses a cursor from another sort order", async () => {
    const first = await get<NodesPage>("/nodes?sort=since&limit=1");
    const { status, body } = await get<ErrorBody>(
      `/nodes?sort=node&limit=1&cursor=${encodeURIComponent(first.body.nextCursor!)}`,
    );
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^cursor: belongs to the list sorted by since asc/);
  });

  it("asks an anonymous caller to sign in", async () => {
    expect((await get("/nodes", false)).status).toBe(401);
  });

  it("is documented with its filters, sort and paging", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string; schema: unknown }> } }>;
    };
    const parameters = document.paths["/nodes"]?.get?.parameters ?? [];
    const names = parameters.map((p) => `${p.in} ${p.name}`);
    expect(names.sort()).toEqual(
      ["cluster", "cursor", "limit", "order", "search", "sort", "state"].map((n) => `query ${n}`).sort(),
    );
    expect(parameters.find((p) => p.name === "cluster")?.schema).toMatchObject({ type: "array" });
    expect(parameters.find((p) => p.name === "sort")?.schema).toMatchObject({
      enum: ["node", "state", "since", "cluster"],
    });
  });
});
