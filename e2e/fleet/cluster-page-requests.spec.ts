import { expect, test } from "@playwright/test";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// The cluster page asks for its first page of nodes in the same round trip as the cluster
// itself, not after the cluster has loaded and the table has mounted (a waterfall that kept
// the first rows a whole round trip later on a busy server).
const CLUSTER = "e2e-first-rows";
let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-first-rows" });
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet" });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: CLUSTER } });
  expect([200, 409], await created.text()).toContain(created.status());
  const connected = await request.put(`/api/v1/clusters/${CLUSTER}/connection`, {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: "sim-first-rows" },
  });
  expect(connected.status(), await connected.text()).toBe(200);
});
test.afterAll(async () => {
  await sim?.stop();
});

test("[fleet]: the cluster page reads its first nodes in the same request as the cluster", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  const procedures: string[][] = [];
  const accepts: (string | undefined)[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/trpc/") && request.method() === "GET") {
      procedures.push(decodeURIComponent(url.pathname.slice("/trpc/".length)).split(","));
      accepts.push(request.headers()["trpc-accept"]);
    }
  });
  await page.goto(`/clusters/${CLUSTER}`);
  await expect(page.locator('[role="row"][data-node]')).toHaveCount(2, { timeout: 15_000 });
  const index = procedures.findIndex((batch) => batch.includes("clusters.get"));
  expect(procedures[index], JSON.stringify(procedures)).toContain("inventory.fleetNodes");
  // Streamed: each answer of the batch comes as soon as it is ready, so the fleet's coverage,
  // the slowest of them at scale, does not hold the cluster's first nodes.
  expect(accepts[index]).toBe("application/jsonl");
  await page.screenshot({ path: test.info().outputPath("cluster-first-rows.png") });
});
