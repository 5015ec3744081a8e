import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-install" });
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: "e2e-install" } });
  expect(created.status(), await created.text()).toBe(200);
  const connected = await request.put("/api/v1/clusters/e2e-install/connection", {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: sim.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);
});
test.afterAll(async () => {
  await sim?.stop();
});

test("[sensor-install]: an admin installs the sensor from the cluster page and sees its objects and pods", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-install");
  const section = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await expect(section).toContainText("Tapfleet has not installed the sensor here");
  await section.getByRole("button", { name: "Install the sensor" }).click();

  const dialog = page.getByRole("dialog", { name: "Install the sensor" });
  await dialog.getByRole("textbox", { name: "Collector host" }).fill("collector.example.com");
  await dialog.getByRole("textbox", { name: "Image" }).fill("tapfleet/agent:1.0.0");
  await dialog.getByRole("switch", { name: /NetworkPolicy/ }).check({ force: true });
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await expect(dialog).toBeHidden();

  await expect(section).toContainText("Revision 1");
  await expect(section).toContainText("tapfleet/agent:1.0.0");
  await expect(section).toContainText("DaemonSet tapfleet-sensor");
  await expect(section).toContainText("NetworkPolicy tapfleet-sensor");
  await expect(section.getByLabel("Rollout")).toContainText("ready 2", { timeout: 15_000 });
  expect(sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")).toBeDefined();
  await page.screenshot({ path: test.info().outputPath("sensor-installed.png") });

  await section.getByRole("button", { name: "Export YAML" }).click();
  const exported = page.getByRole("dialog", { name: "The sensor as YAML" });
  await expect(exported.getByLabel("Sensor YAML")).toContainText(
    "kubectl create secret generic tapfleet-sensor-hmac",
  );
  await expect(exported.getByLabel("Sensor YAML")).toContainText("kind: DaemonSet");
  await page.screenshot({ path: test.info().outputPath("sensor-export.png") });
});
