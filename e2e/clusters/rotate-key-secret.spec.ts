import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

let sim: RunningSimCluster;
let headers: Record<string, string>;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-rotate" });
  headers = { cookie: await apiSignIn(request, ADMIN), "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: "e2e-rotate" } });
  expect(created.status(), await created.text()).toBe(200);
  const connected = await request.put("/api/v1/clusters/e2e-rotate/connection", {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: sim.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);
  const installed = await request.post("/api/v1/clusters/e2e-rotate/sensor", {
    headers,
    data: {
      settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
      image: "tapfleet/agent:1.0.0",
      captureMode: "capabilities",
    },
  });
  expect(installed.status(), await installed.text()).toBe(200);
});
test.afterAll(async () => {
  await sim?.stop();
});

test("[clusters]: rotating the key of an installed sensor whose connection is disabled shows the new key and says its Secret was not updated, and why; once enabled, the dialog names the Secret written", async ({
  page,
  request,
}) => {
  const disabled = await request.patch("/api/v1/clusters/e2e-rotate/connection", {
    headers,
    data: { enabled: false },
  });
  expect(disabled.status(), await disabled.text()).toBe(200);

  await signIn(page, ADMIN);
  await page.goto("/clusters");
  const row = page.getByRole("row").filter({ hasText: "e2e-rotate" });
  await row.getByRole("button", { name: "Rotate key" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Issue new key" }).click();
  const rotated = page.getByRole("dialog", { name: "Copy the new ingest key" });
  const secret = await rotated.getByRole("textbox", { name: "Ingest secret" }).inputValue();
  expect(secret.length).toBeGreaterThanOrEqual(16);
  await expect(rotated.getByText("Secret not updated")).toBeVisible();
  await expect(
    rotated.getByText(
      `The sensor's Secret was not updated. The cluster "e2e-rotate"'s Kubernetes connection is disabled: enable it first.`,
      { exact: false },
    ),
  ).toBeVisible();
  await expect(rotated.locator("pre", { hasText: "kubectl create secret generic" })).toContainText(secret);
  await page.screenshot({ path: test.info().outputPath("rotate-key-not-written.png") });
  await rotated.getByRole("button", { name: "Done" }).click();
  await expect(rotated).toBeHidden();

  const enabled = await request.patch("/api/v1/clusters/e2e-rotate/connection", {
    headers,
    data: { enabled: true },
  });
  expect(enabled.status(), await enabled.text()).toBe(200);
  await row.getByRole("button", { name: "Rotate key" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Issue new key" }).click();
  await expect(
    rotated.getByText("Tapfleet wrote this key into Secret tapfleet-sensor/tapfleet-sensor-hmac", {
      exact: false,
    }),
  ).toBeVisible();
  await expect(rotated.getByText("Secret not updated")).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("rotate-key-written.png") });
});
