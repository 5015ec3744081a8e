import { expect, test, type APIRequestContext } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// The demo's clusters run the real agent in every pod (kube-sim's process
// kubelet), reporting to this server: a debug level set on a sensor page
// restarts the pods, and the new pod's log, read from the cluster, carries the
// agent's level-2 lines (one per report sent) that were absent at level 0.

test.use({ viewport: { width: 1440, height: 900 } });

let headers: Record<string, string>;

interface SensorItem {
  id: string;
  clusterId: string;
  nodeName: string;
  lastSummary: { packets: number } | null;
}

async function sensorOf(request: APIRequestContext, clusterId: string, nodeName: string) {
  const answer = await request.get("/api/v1/sensors", { headers });
  const { items } = (await answer.json()) as { items: SensorItem[] };
  return items.find((item) => item.clusterId === clusterId && item.nodeName === nodeName);
}

test.beforeAll(async ({ request }) => {
  headers = { cookie: await apiSignIn(request, ADMIN), "content-type": "application/json" };
  const started = await request.post("/api/v1/demo/start", { headers, data: {}, timeout: 60_000 });
  expect(started.status(), await started.text()).toBe(200);
});

test.afterAll(async ({ request }) => {
  await request.post("/api/v1/demo/stop", { headers, data: {}, timeout: 60_000 });
});

test("[debug-level]: level 5 set on a sensor page applies to its DaemonSet, and the restarted pod's log shows the agent's debug lines", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  // A sensor that has reported: its agent, at the default level 0, has sent reports without a word about them.
  await expect
    .poll(async () => (await sensorOf(request, "demo-east", "node-1"))?.lastSummary?.packets ?? 0, {
      timeout: 45_000,
    })
    .toBeGreaterThan(0);
  const sensor = (await sensorOf(request, "demo-east", "node-1"))!;

  await signIn(page, ADMIN);
  await page.goto(`/sensors/${sensor.id}`);
  const card = page.getByRole("group", { name: "Debug level" });
  await expect(card).toBeVisible({ timeout: 20_000 });
  await expect(card.getByTestId("debug-level-scope")).toContainText("Applies to every node of DaemonSet");
  const daemonSet = (await card.getByTestId("debug-level-scope").locator("span").textContent())!;

  const log = page.getByRole("log", { name: /^Log of pod / });
  await expect(log).toContainText("[0] collector https://", { timeout: 20_000 });
  const firstPod = (await log.getAttribute("aria-label"))!;
  expect(await log.textContent()).not.toMatch(/\[2\] report #\d+/);

  await card.getByLabel("Level", { exact: true }).click();
  await page.getByRole("option", { name: "5", exact: true }).click();
  await card.getByRole("textbox", { name: "For (minutes)" }).fill("30");
  await card.getByRole("button", { name: "Set level" }).click();

  await expect(card.getByLabel("Debug level status")).toHaveText("active", { timeout: 45_000 });
  await expect(card.getByTestId("debug-level-current")).toHaveText("5");
  const view = (await (await request.get("/api/v1/clusters/demo-east/debug-level", { headers })).json()) as {
    level: number;
    daemonSet: { namespace: string; name: string };
  };
  expect(view.level).toBe(5);
  expect(`${view.daemonSet.namespace}/${view.daemonSet.name}`).toBe(daemonSet);

  // The pod was replaced; the page follows the new one's log.
  await expect(log).not.toHaveAttribute("aria-label", firstPod, { timeout: 20_000 });
  await expect(log).toContainText(/\[2\] report #\d+ \(\d+ bytes\) sent: HTTP 2\d\d/, { timeout: 30_000 });
  await page.screenshot({ path: test.info().outputPath("sensor-debug-level.png"), fullPage: true });

  await card.getByRole("button", { name: "Revert now" }).click();
  await expect(card.getByLabel("Debug level status")).toHaveText("reverted", { timeout: 45_000 });
});
