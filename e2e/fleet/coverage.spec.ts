import { expect, test, type Page } from "@playwright/test";
import type { RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { connectSimCluster } from "../support/sim-cluster.ts";

// A simulated cluster with one sensor DaemonSet, connected through the real REST API: its fake
// kubelet runs the pods, no agent reports, so every node is "starting" until something changes.
const CLUSTER = "e2e-fleet";
let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });
test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  // A long report interval keeps the nodes "starting" (not "silent") for the whole file.
  ({ sim } = await connectSimCluster(request, {
    id: CLUSTER,
    name: "sim-fleet",
    nodes: 3,
    env: [{ name: "TAPFLEET_REPORT_INTERVAL", value: "600" }],
  }));
});
test.afterAll(async () => {
  await sim?.stop();
});

async function screenshots(page: Page, name: string) {
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: test.info().outputPath(`${name}-light.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: test.info().outputPath(`${name}-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
}

test("[fleet]: the Fleet page lists a connected cluster with its coverage; its page shows each node's state, live", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/fleet");
  const row = page.locator(`tr[data-cluster="${CLUSTER}"]`);
  await expect(row).toContainText("reachable", { timeout: 15_000 });
  await expect(row).toContainText("0 of 3 targeted", { timeout: 15_000 });
  await expect(row.locator('[data-state="starting"]')).toHaveText("3 starting");
  await expect(page.getByRole("group", { name: "Coverage" })).toContainText("0.0 %");
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await screenshots(page, "fleet");

  await row.getByRole("link", { name: CLUSTER }).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/${CLUSTER}$`));
  await expect(page.getByRole("heading", { name: CLUSTER, level: 1 })).toBeVisible();
  const card = page.getByRole("group", { name: "DaemonSet tapfleet/tapfleet-sensor" });
  await expect(card).toBeVisible();
  // The columns of `kubectl get ds -o wide`: every node runs a Ready pod of the first generation.
  const status = card.getByRole("table", { name: "DaemonSet status" });
  for (const column of ["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"])
    await expect(status.locator(`[data-column="${column}"]`)).toHaveText("3");
  await expect(card).toContainText("Rolled out");
  await expect(card).toContainText("Generation 1 · observed 1");
  // The DaemonSet's own Kubernetes events, read from the cluster: the controller created a pod per node.
  await expect(page.getByRole("table", { name: "Events of DaemonSet tapfleet-sensor" })).toContainText(
    "SuccessfulCreate",
  );
  const table = page.getByRole("table", { name: "Nodes" });
  for (const node of ["node-1", "node-2", "node-3"])
    await expect(table.locator(`[data-node="${node}"]`)).toHaveAttribute("data-state", "starting");
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await screenshots(page, "cluster");

  // A taint the DaemonSet does not tolerate: the row turns excluded without a reload.
  sim.cluster.taint("node-2", { key: "dedicated", value: "db", effect: "NoSchedule" });
  const tainted = table.locator('[data-node="node-2"]');
  await expect(tainted).toHaveAttribute("data-state", "excluded", { timeout: 2_000 });
  await expect(tainted).toContainText("Taint dedicated=db:NoSchedule is not tolerated.");
  // …and the DaemonSet no longer wants a pod there: its pod stays (the taint does not evict), misscheduled.
  await expect(status.locator('[data-column="DESIRED"]')).toHaveText("2");
  await expect(status.locator('[data-column="CURRENT"]')).toHaveText("2");
  await expect(card).toContainText("1 misscheduled");

  // A new image the controller leaves to the pods' deletion (OnDelete): rolling out, none up to date.
  const daemonSet = structuredClone(sim.store.get("daemonsets.apps", "tapfleet", "tapfleet-sensor")!);
  const spec = daemonSet.spec as {
    updateStrategy?: unknown;
    template: { spec: { containers: { image: string }[] } };
  };
  spec.updateStrategy = { type: "OnDelete" };
  spec.template.spec.containers[0]!.image = "tapfleet/agent:2";
  sim.store.update("daemonsets.apps", daemonSet);
  await expect(card).toContainText("Rolling out");
  await expect(card).toContainText("Generation 2 · observed 2");
  await expect(status.locator('[data-column="UP-TO-DATE"]')).toHaveText("0");
  await screenshots(page, "cluster-rolling-out");
});

test("[fleet]: the nodes table's state filter and search land in the URL and survive a reload", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto(`/clusters/${CLUSTER}`);
  const table = page.getByRole("table", { name: "Nodes" });
  await expect(table.locator("[data-node]")).toHaveCount(3);

  await page.getByRole("combobox", { name: "State" }).click();
  await page.getByRole("option", { name: "starting" }).click();
  await expect(page).toHaveURL(/[?&]state=starting/);
  await expect(table.locator("[data-node]")).toHaveCount(2);

  await page.getByRole("textbox", { name: "Search" }).fill("node-3");
  await expect(page).toHaveURL(/[?&]q=node-3/);
  await expect(table.locator("[data-node]")).toHaveCount(1);

  await page.reload();
  await expect(page.getByRole("combobox", { name: "State" })).toHaveValue("starting");
  await expect(page.getByRole("textbox", { name: "Search" })).toHaveValue("node-3");
  await expect(table.locator("[data-node]")).toHaveCount(1);
  await expect(table.locator('[data-node="node-3"]')).toHaveAttribute("data-state", "starting");
});
