import { expect, test, type Page } from "@playwright/test";
import type { RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { connectSimCluster } from "../support/sim-cluster.ts";

// No waterfall before the cluster page's first rows: the server renders the page with the
// session, the cluster and its first page of nodes already read, for a new document and for a
// click from the Fleet page alike, so the browser asks for none of them before showing the rows
// (a round trip each, and a whole one more on a busy server, before the page was rendered there).
const CLUSTER = "e2e-first-rows";
let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  ({ sim } = await connectSimCluster(request, { id: CLUSTER, name: "sim-first-rows", nodes: 2 }));
});
test.afterAll(async () => {
  await sim?.stop();
});

/** The procedures of each tRPC request the page makes (subscriptions included), in order. */
function recordProcedures(page: Page): string[][] {
  const procedures: string[][] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/trpc/"))
      procedures.push(decodeURIComponent(url.pathname.slice("/trpc/".length)).split(","));
  });
  return procedures;
}

test("[fleet]: the cluster page's first rows come with the page, with no request of their own", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  // Away from the page signing in lands on, so none of its requests is counted.
  await page.goto("about:blank");
  const procedures = recordProcedures(page);
  const response = await page.goto(`/clusters/${CLUSTER}`, { waitUntil: "commit" });
  expect(await response?.text()).toMatch(new RegExp(`data-node="node-1" data-cluster="${CLUSTER}"`));
  const rows = page.locator('[role="row"][data-node]');
  await expect(rows).toHaveCount(2);
  await expect(page.getByText("Live updates connected")).toBeVisible();
  const beforeStream = procedures.slice(
    0,
    procedures.findIndex((batch) => batch.includes("live.stream")),
  );
  for (const procedure of ["auth.me", "clusters.get", "inventory.fleetNodes"])
    expect(beforeStream.flat(), JSON.stringify(procedures)).not.toContain(procedure);
  await page.screenshot({ path: test.info().outputPath("cluster-first-rows.png") });
});

test("[fleet]: a click from the Fleet page brings the cluster's first rows with the page", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/fleet");
  const link = page.locator(`tr[data-cluster="${CLUSTER}"] a[href="/clusters/${CLUSTER}"]`);
  await expect(page.getByText("Live updates connected")).toBeVisible();
  const procedures = recordProcedures(page);
  const pageData: string[] = [];
  page.on("request", (request) => {
    if (request.headers()["rsc"] === "1") pageData.push(new URL(request.url()).pathname);
  });
  await link.click();
  const rows = page.locator('[role="row"][data-node]');
  await expect(rows).toHaveCount(2);
  // The rows came in the page's own (RSC) answer, not from a tRPC request after it.
  expect(pageData).toContain(`/clusters/${CLUSTER}`);
  const beforeRows = [...procedures];
  for (const procedure of ["clusters.get", "inventory.fleetNodes"])
    expect(beforeRows.flat(), JSON.stringify(beforeRows)).not.toContain(procedure);
});
