import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test, type Page } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

const run = promisify(execFile);
const VIEWER = { username: "e2e-drift-viewer", password: "e2e-drift-viewer-password" };

let sim: RunningSimCluster;
let kubeconfigFile: string;

test.use({ viewport: { width: 1440, height: 900 } });
test.describe.configure({ mode: "serial" });

const setEnv = (assignment: string) =>
  run("kubectl", [
    "--kubeconfig",
    kubeconfigFile,
    "set",
    "env",
    "ds/tapfleet-sensor",
    "-n",
    "tapfleet-sensor",
    "-c",
    "capture",
    assignment,
  ]);

function captureEnv(): Record<string, string | undefined> {
  const daemonSet = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor") as unknown as {
    spec: {
      template: {
        spec: { containers: Array<{ name: string; env: Array<{ name: string; value?: string }> }> };
      };
    };
  };
  const capture = daemonSet.spec.template.spec.containers.find((c) => c.name === "capture")!;
  return Object.fromEntries(capture.env.map((entry) => [entry.name, entry.value]));
}

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-drift" });
  const directory = await mkdtemp(path.join(tmpdir(), "tapfleet-e2e-drift-"));
  kubeconfigFile = path.join(directory, "kubeconfig");
  await writeFile(kubeconfigFile, sim.kubeconfig());
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: "e2e-drift" } });
  expect(created.status(), await created.text()).toBe(200);
  const connected = await request.put("/api/v1/clusters/e2e-drift/connection", {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: sim.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);
  const installed = await request.post("/api/v1/clusters/e2e-drift/sensor", {
    headers,
    data: {
      settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
      image: "tapfleet/agent:1.0.0",
      captureMode: "capabilities",
    },
  });
  expect(installed.status(), await installed.text()).toBe(200);
  const viewer = await request.post("/api/v1/users", { headers, data: { ...VIEWER, role: "viewer" } });
  expect(viewer.status(), await viewer.text()).toBe(200);
});
test.afterAll(async () => {
  await sim?.stop();
});

const driftBanner = (page: Page) => page.getByRole("region", { name: "Drift" });

test("[sensor-install]: kubectl set env is shown as drift by setting; restore puts the template back, adopt keeps it as a new profile revision", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-drift");
  const section = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await expect(section).toContainText("Revision 1");
  await expect(driftBanner(page)).toHaveCount(0);

  // Changed outside Tapfleet while the page is open: the banner comes without a reload.
  await setEnv("OSSENSOR_DEBUG=4");
  const banner = driftBanner(page);
  await expect(banner).toContainText(
    "Drift: DaemonSet tapfleet-sensor/tapfleet-sensor was changed outside Tapfleet",
    {
      timeout: 10_000,
    },
  );
  const row = banner.getByRole("table", { name: "Drift by setting" }).getByRole("row").filter({
    hasText: "OSSENSOR_DEBUG",
  });
  await expect(row).toContainText("not set (default 1)");
  await expect(row).toContainText("4");
  await page.screenshot({ path: test.info().outputPath("drift-banner.png") });

  page.once("dialog", (dialog) => void dialog.accept());
  await banner.getByRole("button", { name: "Restore" }).click();
  await expect(driftBanner(page)).toHaveCount(0);
  await expect(section).toContainText("back to what Tapfleet applied");
  expect(captureEnv()).not.toHaveProperty("OSSENSOR_DEBUG");

  // Again, and this time the change is kept.
  await setEnv("VSENSOR_PORT=9443");
  await expect(driftBanner(page).getByRole("row").filter({ hasText: "VSENSOR_PORT" })).toContainText("9443", {
    timeout: 10_000,
  });
  await driftBanner(page).getByRole("button", { name: "Adopt as a new revision" }).click();
  const dialog = page.getByRole("dialog", { name: "Adopt the drift as a new revision" });
  const profileName = dialog.getByRole("textbox", { name: "New profile" });
  await dialog.getByRole("textbox", { name: "Message" }).fill("keep the port set during the incident");
  await profileName.fill("Drift Lab");
  await dialog.getByRole("button", { name: "Adopt", exact: true }).click();
  // Refused by the server at the field, and nothing adopted.
  await expect(profileName).toHaveAttribute("aria-invalid", "true");
  await expect(dialog).toContainText("lowercase letters, digits");
  await profileName.fill("drift-lab");
  await page.screenshot({ path: test.info().outputPath("drift-adopt.png") });
  await dialog.getByRole("button", { name: "Adopt", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(driftBanner(page)).toHaveCount(0);
  await expect(section.getByLabel("Profile revision")).toContainText("drift-lab revision r1");
  expect(captureEnv().VSENSOR_PORT).toBe("9443");

  await section.getByRole("link", { name: "drift-lab" }).click();
  await expect(page.getByLabel(/Collector port/)).toHaveValue("9443");
  await page.getByRole("tab", { name: /History/ }).click();
  await expect(page.getByRole("cell", { name: "keep the port set during the incident" })).toBeVisible();
});

test("[sensor-install]: a viewer sees the drift, and the actions say why they are not theirs", async ({
  page,
}) => {
  await setEnv("OSSENSOR_DEBUG=5");
  await signIn(page, VIEWER);
  await page.goto("/clusters/e2e-drift");
  const banner = driftBanner(page);
  await expect(banner.getByRole("row").filter({ hasText: "OSSENSOR_DEBUG" })).toContainText("5", {
    timeout: 10_000,
  });
  await expect(banner.getByRole("button", { name: "Restore" })).toBeDisabled();
  await expect(banner.getByRole("button", { name: "Adopt as a new revision" })).toBeDisabled();
  await expect(banner).toContainText("Restoring needs an operator.");
  await banner.getByRole("button", { name: "Restore" }).locator("..").hover();
  await expect(page.getByRole("tooltip").filter({ hasText: "Restoring needs an operator." })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("drift-viewer.png") });
});
