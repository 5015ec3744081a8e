import { expect, test, type Locator, type Page } from "@playwright/test";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// Two simulated clusters with a sensor DaemonSet each, connected through the real REST API. Their
// fake kubelets run the pods and no agent reports, so every node is "starting", but for one node
// tainted against the sensor ("excluded"). The Nodes page lists both clusters' nodes in one table.
const CLUSTERS = { a: "e2e-nodes-a", b: "e2e-nodes-b" };
const sims: RunningSimCluster[] = [];

test.use({ viewport: { width: 1440, height: 900 } });
test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  for (const [id, nodes] of [
    [CLUSTERS.a, 3],
    [CLUSTERS.b, 2],
  ] as const) {
    const sim = await startSimCluster({ nodes, kubelet: "fake", name: `sim-${id}` });
    sims.push(sim);
    sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
    // A long report interval keeps the nodes "starting" (not "silent") for the whole file.
    const daemonSet = daemonSetFixture({
      name: "tapfleet-sensor",
      namespace: "tapfleet",
      env: [{ name: "TAPFLEET_REPORT_INTERVAL", value: "600" }],
    });
    daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
    sim.store.create("daemonsets.apps", daemonSet);
    if (id === CLUSTERS.a)
      sim.cluster.taint("node-2", { key: "dedicated", value: "db", effect: "NoSchedule" });

    const created = await request.post("/api/v1/clusters", { headers, data: { id } });
    // 409: a retry of this file in a new worker finds the cluster registered.
    expect([200, 409], await created.text()).toContain(created.status());
    const connected = await request.put(`/api/v1/clusters/${id}/connection`, {
      headers,
      data: { kubeconfig: sim.kubeconfig(), context: `sim-${id}` },
    });
    expect(connected.status(), await connected.text()).toBe(200);
  }
});
test.afterAll(async () => {
  for (const sim of sims) await sim.stop();
});

/** The rows on screen as "cluster/node state", in the table's order. */
async function rowsOf(table: Locator): Promise<string[]> {
  return table.locator('[role="row"][data-node]').evaluateAll((rows) =>
    rows
      .map((row) => ({ row, top: row.getBoundingClientRect().top }))
      .sort((x, y) => x.top - y.top)
      .map(
        ({ row }) =>
          `${row.getAttribute("data-cluster")}/${row.getAttribute("data-node")} ${row.getAttribute("data-state")}`,
      ),
  );
}

async function pickCluster(page: Page, id: string) {
  await page.getByRole("combobox", { name: "Clusters" }).click();
  await page.getByRole("option", { name: id, exact: true }).click();
  await page.keyboard.press("Escape");
}

async function screenshot(page: Page, name: string) {
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: test.info().outputPath(`${name}.png`) });
}

test("[nodes]: the Nodes page filters by cluster and state and sorts by a column, all in the URL, and a reload shows the same view", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("navigation").getByRole("link", { name: "Nodes", exact: true }).click();
  await expect(page).toHaveURL(/\/nodes$/);
  await expect(page.getByRole("heading", { name: "Nodes", level: 1 })).toBeVisible();
  const table = page.getByRole("table", { name: "Nodes" });

  // Only this file's clusters (other files' clusters share the server).
  await pickCluster(page, CLUSTERS.a);
  await pickCluster(page, CLUSTERS.b);
  await expect(page).toHaveURL(new RegExp(`[?&]cluster=${CLUSTERS.a}&cluster=${CLUSTERS.b}`));
  await expect
    .poll(() => rowsOf(table), { timeout: 20_000 })
    .toEqual([
      `${CLUSTERS.a}/node-1 starting`,
      `${CLUSTERS.b}/node-1 starting`,
      `${CLUSTERS.a}/node-2 excluded`,
      `${CLUSTERS.b}/node-2 starting`,
      `${CLUSTERS.a}/node-3 starting`,
    ]);
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await expect(page.getByTestId("nodes-summary")).toHaveText("5 rows, by node name");
  await screenshot(page, "nodes-page");

  // Sort by state: problems first (starting before excluded), then by cluster and node; again: reversed.
  await page.getByRole("button", { name: "Sort by state" }).click();
  await expect(page).toHaveURL(/[?&]sort=state&order=asc/);
  await expect(page.getByRole("columnheader", { name: "Sort by state" })).toHaveAttribute(
    "aria-sort",
    "ascending",
  );
  await expect
    .poll(() => rowsOf(table))
    .toEqual([
      `${CLUSTERS.a}/node-1 starting`,
      `${CLUSTERS.a}/node-3 starting`,
      `${CLUSTERS.b}/node-1 starting`,
      `${CLUSTERS.b}/node-2 starting`,
      `${CLUSTERS.a}/node-2 excluded`,
    ]);
  await page.getByRole("button", { name: "Sort by state" }).click();
  await expect(page).toHaveURL(/[?&]sort=state&order=desc/);
  await expect(page.getByTestId("nodes-summary")).toHaveText("5 rows, by state, problems last");
  await expect.poll(async () => (await rowsOf(table))[0]).toBe(`${CLUSTERS.a}/node-2 excluded`);

  // One cluster, one state.
  await page.getByRole("combobox", { name: "Clusters" }).click();
  await page.getByRole("option", { name: CLUSTERS.b, exact: true }).click();
  await page.keyboard.press("Escape");
  await expect(page).not.toHaveURL(new RegExp(`cluster=${CLUSTERS.b}`));
  await page.getByRole("combobox", { name: "State" }).click();
  await page.getByRole("option", { name: "starting" }).click();
  await expect(page).toHaveURL(/[?&]state=starting/);
  const expected = [`${CLUSTERS.a}/node-3 starting`, `${CLUSTERS.a}/node-1 starting`];
  await expect.poll(() => rowsOf(table)).toEqual(expected);
  const url = page.url();

  await page.reload();
  expect(page.url()).toBe(url);
  await expect.poll(() => rowsOf(table)).toEqual(expected);
  await expect(page.getByRole("combobox", { name: "State" })).toHaveValue("starting");
  await expect(page.getByRole("columnheader", { name: "Sort by state" })).toHaveAttribute(
    "aria-sort",
    "descending",
  );
  await expect(page.getByRole("group", { name: "Nodes by state" })).toContainText(
    "3 node × sensor DaemonSet pairs in 1 cluster",
  );

  // A row opens its node's page (no agent reported: the node's Kubernetes side).
  await table.locator(`[data-node="node-3"] time`).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/${CLUSTERS.a}/nodes/node-3$`));
  await expect(page.getByRole("heading", { name: "node-3", level: 1 })).toBeVisible();
  // The sidebar agrees with the breadcrumb (Nodes › cluster › node).
  const nav = page.getByRole("navigation", { name: "Main navigation" });
  await expect(nav.getByRole("link", { name: "Nodes" })).toHaveAttribute("aria-current", "page");
  await expect(nav.getByRole("link", { name: "Clusters" })).not.toHaveAttribute("aria-current", "page");
  await expect(page.getByText("No agent has reported from this node yet")).toBeVisible();
});

test("[nodes]: a link that names an unknown cluster or sort says so and shows the rest", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto(`/nodes?cluster=${CLUSTERS.b}&cluster=nowhere&sort=packets`);
  const notice = page.getByRole("alert").filter({ hasText: "Part of this link was left out" });
  await expect(notice).toContainText("the sort “packets” does not exist");
  await expect(notice).toContainText("Tapfleet knows no cluster “nowhere”");
  await expect
    .poll(() => rowsOf(page.getByRole("table", { name: "Nodes" })))
    .toEqual([`${CLUSTERS.b}/node-1 starting`, `${CLUSTERS.b}/node-2 starting`]);
});

test("[nodes]: the cluster page's table sorts by its headers the same way", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto(`/clusters/${CLUSTERS.a}`);
  const table = page.getByRole("table", { name: "Nodes" });
  await expect
    .poll(() => rowsOf(table), { timeout: 20_000 })
    .toEqual([
      `${CLUSTERS.a}/node-1 starting`,
      `${CLUSTERS.a}/node-2 excluded`,
      `${CLUSTERS.a}/node-3 starting`,
    ]);
  await page.getByRole("button", { name: "Sort by node" }).click();
  await expect(page).toHaveURL(/[?&]sort=node&order=desc/);
  await expect
    .poll(() => rowsOf(table))
    .toEqual([
      `${CLUSTERS.a}/node-3 starting`,
      `${CLUSTERS.a}/node-2 excluded`,
      `${CLUSTERS.a}/node-1 starting`,
    ]);
  await page.reload();
  await expect
    .poll(() => rowsOf(table))
    .toEqual([
      `${CLUSTERS.a}/node-3 starting`,
      `${CLUSTERS.a}/node-2 excluded`,
      `${CLUSTERS.a}/node-1 starting`,
    ]);
  await table.scrollIntoViewIfNeeded();
  await screenshot(page, "cluster-page-nodes");
});
