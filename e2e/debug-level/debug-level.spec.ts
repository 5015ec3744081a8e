import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-debug" });
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({
    name: "sensor",
    namespace: "tapfleet",
    containerName: "ossensor",
    env: [
      { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
      { name: "OSSENSOR_DEBUG", value: "1" },
    ],
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  expect((await request.post("/api/v1/clusters", { headers, data: { id: "e2e-debug" } })).status()).toBe(200);
  const saved = await request.put("/api/v1/clusters/e2e-debug/connection", {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: "sim-debug" },
  });
  expect(saved.status(), await saved.text()).toBe(200);
});
test.afterAll(async () => {
  await sim?.stop();
});

const templateLevel = () => {
  const raw = sim.store.get("daemonsets.apps", "tapfleet", "sensor") as unknown as {
    spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  return raw.spec.template.spec.containers[0]?.env?.find((e) => e.name === "OSSENSOR_DEBUG")?.value;
};

test("[debug-level]: an operator sets level 4 for 30 minutes on the cluster page, sees it with the time left, and reverts it", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-debug");
  const card = page.getByRole("group", { name: "Debug level" });
  await expect(card).toBeVisible();

  // Refused at its field without a request: the shared rule says the bounds.
  await card.getByRole("textbox", { name: "For (minutes)" }).fill("2000");
  await expect(card.getByText("must be between 1 and 1440 minutes")).toBeVisible();
  await card.getByRole("textbox", { name: "For (minutes)" }).fill("30");

  await card.getByLabel("Level", { exact: true }).click();
  await page.getByRole("option", { name: "4", exact: true }).click();
  await card.getByRole("button", { name: "Set level" }).click();

  await expect(card.getByLabel("Debug level status")).toHaveText("active");
  await expect(card.getByTestId("debug-level-current")).toHaveText("4");
  await expect(card.getByText("Goes back to")).toBeVisible();
  await expect(card.getByTestId("debug-level-previous")).toHaveText("1");
  await expect(card.getByTestId("debug-level-time-left")).toHaveText(/^(29:5\d|30:00)$/);
  expect(templateLevel()).toBe("4");
  const before = await card.getByTestId("debug-level-time-left").textContent();
  await expect(card.getByTestId("debug-level-time-left")).not.toHaveText(before ?? "");
  await page.screenshot({ path: test.info().outputPath("debug-level.png") });

  await card.getByRole("button", { name: "Revert now" }).click();
  await expect(card.getByLabel("Debug level status")).toHaveText("reverted");
  expect(templateLevel()).toBe("1");
});

test("[debug-level]: a level set for one minute counts down on the card and reverts by itself, the DaemonSet back to its previous value", async ({
  page,
}) => {
  test.setTimeout(150_000);
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-debug");
  const card = page.getByRole("group", { name: "Debug level" });
  await card.getByRole("textbox", { name: "For (minutes)" }).fill("1");
  await card.getByLabel("Level", { exact: true }).click();
  await page.getByRole("option", { name: "5", exact: true }).click();
  await card.getByRole("button", { name: /^(Set level|Replace)$/ }).click();

  await expect(card.getByLabel("Debug level status")).toHaveText("active");
  await expect(card.getByTestId("debug-level-current")).toHaveText("5");
  expect(templateLevel()).toBe("5");
  const timeLeft = card.getByTestId("debug-level-time-left");
  await expect(timeLeft).toHaveText(/^0:[0-5]\d$|^1:00$/);
  const first = await timeLeft.textContent();
  await expect(timeLeft).not.toHaveText(first ?? "");

  // Nobody touches the page: the leader puts the previous value back when the minute is up, and
  // the card hears it on the live stream.
  await expect(card.getByLabel("Debug level status")).toHaveText("reverted", { timeout: 100_000 });
  await expect(card.getByText("Back at level 1 on tapfleet/sensor after level 5.")).toBeVisible();
  expect(templateLevel()).toBe("1");
  await page.screenshot({ path: test.info().outputPath("debug-level-reverted.png") });
});
