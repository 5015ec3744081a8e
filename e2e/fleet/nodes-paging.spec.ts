import { expect, test } from "@playwright/test";
import type { RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { connectSimCluster } from "../support/sim-cluster.ts";

// The nodes table reads its rows a page at a time (keyset paging on the server) and renders only
// those on screen: scrolling to the end of a cluster larger than a page reads the next pages, and
// every node shows up once, in order.
const CLUSTER = "e2e-nodes-paging";
const NODE_COUNT = 130;
let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  let cookie: string;
  ({ sim, cookie } = await connectSimCluster(request, {
    id: CLUSTER,
    name: "sim-nodes-paging",
    nodes: NODE_COUNT,
  }));
  await expect
    .poll(
      async () => {
        const nodes = await request.get(`/api/v1/clusters/${CLUSTER}/nodes?limit=${NODE_COUNT + 10}`, {
          headers: { cookie },
        });
        return ((await nodes.json()) as { items: unknown[] }).items.length;
      },
      { timeout: 30_000 },
    )
    .toBe(NODE_COUNT);
});
test.afterAll(async () => {
  await sim?.stop();
});

test("[fleet]: scrolling a cluster's nodes table to the end reads the next pages; every node shows once, in order", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto(`/clusters/${CLUSTER}`);
  const summary = page.getByTestId("nodes-summary");
  // More rows than the first page holds: the summary says there are more.
  await expect(summary).toHaveText(/^\d+\+ rows, /);
  const table = page.getByRole("table", { name: "Nodes" });
  const rows = table.locator('[role="row"][data-node]');
  // The rows scroll inside the table (the second row group; the first holds the header row).
  const scroller = table.getByRole("rowgroup").nth(1);
  const seen: string[] = [];
  const collect = async () => {
    for (const node of await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-node"))))
      if (node && !seen.includes(node)) seen.push(node);
  };
  await expect
    .poll(
      async () => {
        await collect();
        // The wheel over the rows scrolls them (and, once they are at their end, the page), a few
        // rows at a time: fewer than the table renders beyond the window, so none is skipped.
        await scroller.hover();
        await page.mouse.wheel(0, 400);
        return seen.length;
      },
      { timeout: 30_000, intervals: [100] },
    )
    .toBe(NODE_COUNT);
  // Every page read: the summary no longer says there are more.
  await expect(summary).toHaveText(new RegExp(`^${NODE_COUNT} rows, `));
  // The table's default sort is by node name, A to Z, as the server compares them.
  const names = Array.from({ length: NODE_COUNT }, (_, i) => `node-${i + 1}`);
  expect(seen).toEqual([...names].sort());
});
