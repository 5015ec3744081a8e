import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

const run = promisify(execFile);
const SEED_MANIFEST = fileURLToPath(
  new URL("../../packages/sensor/src/fixtures/ossensor-daemonset.yaml", import.meta.url),
);

let sim: RunningSimCluster;
let gitops: RunningSimCluster;
let directory: string;

test.use({ viewport: { width: 1440, height: 900 } });

async function kubectl(target: RunningSimCluster, ...args: string[]): Promise<string> {
  const file = path.join(directory, `${target.name}.kubeconfig`);
  await writeFile(file, target.kubeconfig());
  const { stdout } = await run("kubectl", ["--kubeconfig", file, ...args]);
  return stdout;
}

function podUids(): string[] {
  return sim.store
    .list("pods", { namespace: "default", labelSelector: "name=ossensor" })
    .items.map((pod) => pod.metadata.uid!)
    .sort();
}

test.beforeAll(async ({ request }) => {
  [sim, gitops] = await Promise.all([
    startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-adopt" }),
    startSimCluster({ nodes: 1, kubelet: "fake", name: "sim-gitops" }),
  ]);
  directory = await mkdtemp(path.join(tmpdir(), "tapfleet-e2e-adopt-"));
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  for (const id of ["e2e-adopt", "e2e-gitops"]) {
    const created = await request.post("/api/v1/clusters", { headers, data: { id } });
    expect(created.status(), await created.text()).toBe(200);
  }
  const connected = await request.put("/api/v1/clusters/e2e-adopt/connection", {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: sim.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);
  expect(await kubectl(sim, "apply", "-f", SEED_MANIFEST)).toContain("daemonset.apps/ossensor created");
  const envFrom = path.join(directory, "envfrom.yaml");
  await writeFile(
    envFrom,
    `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: sensor-envfrom, namespace: default }
spec:
  selector: { matchLabels: { name: sensor-envfrom } }
  template:
    metadata: { labels: { name: sensor-envfrom } }
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example/agent:1
          envFrom: [{ configMapRef: { name: sensor-env } }]
          env: [{ name: VSENSOR_HOSTNAME, value: "collector.example" }]
`,
  );
  await kubectl(sim, "apply", "-f", envFrom);
  await expect.poll(podUids, { timeout: 15_000 }).toHaveLength(2);
});
test.afterAll(async () => {
  await Promise.all([sim?.stop(), gitops?.stop()]);
});

test("[sensor-install]: an admin adopts the seed's osSensor DaemonSet and finds its profile revision on the Configuration page", async ({
  page,
}) => {
  const pods = podUids();
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-adopt");

  // One the import cannot represent faithfully: the dialog says why and offers no adoption.
  await page
    .getByRole("group", { name: "DaemonSet default/sensor-envfrom" })
    .getByRole("button", { name: "Adopt default/sensor-envfrom" })
    .click();
  const refused = page.getByRole("dialog", { name: "Adopt default/sensor-envfrom" });
  await expect(refused).toContainText("Cannot be adopted");
  await expect(refused).toContainText("takes variables from envFrom");
  await expect(refused.getByRole("button", { name: "Adopt", exact: true })).toBeDisabled();
  await page.screenshot({ path: test.info().outputPath("adopt-refused.png") });
  await refused.getByRole("button", { name: "Cancel" }).click();
  await expect(refused).toBeHidden();

  const card = page.getByRole("group", { name: "DaemonSet default/ossensor" });
  await card.getByRole("button", { name: "Adopt default/ossensor" }).click();

  const dialog = page.getByRole("dialog", { name: "Adopt default/ossensor" });
  const settings = dialog.getByRole("table", { name: "Imported settings" });
  await expect(settings).toContainText("192.168.0.1");
  await expect(settings).toContainText("^veth");
  await expect(settings).toContainText("OSSENSOR_DEBUG");
  await page.screenshot({ path: test.info().outputPath("adopt-dialog-open.png") });
  await expect(dialog).toContainText("VSENSOR_HMAC_KEY: is a literal in the DaemonSet");
  // What the first rollout does with the literal key, and what it means for the agents' reports.
  const key = dialog.getByRole("alert").filter({ hasText: "The HMAC key on the first rollout" });
  await expect(key).toContainText(
    "The first rollout replaces it with a reference to Secret default/ossensor-hmac (key hmac-key), which Tapfleet creates",
  );
  await expect(key).toContainText("Tapfleet refuses reports signed with the literal key");
  await expect(dialog).toContainText("Tapfleet takes over this DaemonSet only");
  await expect(dialog).not.toContainText("js84ld9vm3hff");
  await dialog.getByRole("textbox", { name: "Profile name" }).fill("lab-sensors");
  await page.screenshot({ path: test.info().outputPath("adopt-dialog.png") });
  await dialog.getByRole("button", { name: "Adopt", exact: true }).click();
  await expect(dialog).toBeHidden();

  const section = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await expect(section).toContainText("Adopted DaemonSet default/ossensor");
  await expect(section.getByLabel("Profile revision")).toContainText("lab-sensors revision r1");
  await expect(section).toContainText("DaemonSet ossensor");
  await expect(card).toContainText("Adopted by Tapfleet");
  await expect(page.getByRole("group", { name: "DaemonSet default/sensor-envfrom" })).toContainText(
    "Tapfleet, which manages default/ossensor here",
  );
  await page.screenshot({ path: test.info().outputPath("adopted.png") });
  expect(podUids()).toEqual(pods);

  await section.getByRole("link", { name: "lab-sensors" }).click();
  await expect(page).toHaveURL(/\/configuration\/[0-9a-f-]+$/);
  await expect(page.getByRole("heading", { name: "lab-sensors" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Collector host" })).toHaveValue("192.168.0.1");
  await page.getByRole("tab", { name: "History (1)" }).click();
  await expect(page.getByRole("tabpanel")).toContainText("Adopted from e2e-adopt default/ossensor");
  await expect(page.getByRole("tabpanel")).toContainText("r1");
  await page.screenshot({ path: test.info().outputPath("adopted-profile.png") });
});

test("[sensor-install]: after a rollout gives the adopted DaemonSet Tapfleet's key Secret, Uninstall names that Secret too", async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  const headers = { cookie: await apiSignIn(request, ADMIN), "content-type": "application/json" };
  const status = (await (await request.get("/api/v1/clusters/e2e-adopt/sensor", { headers })).json()) as {
    profile: { id: string; revision: number };
  };
  const saved = await request.post(`/api/v1/profiles/${status.profile.id}/revisions`, {
    headers,
    data: {
      expectedLatest: status.profile.revision,
      settings: { collectorHost: "192.168.0.1", debugLevel: 3 },
      message: "debug 3",
    },
  });
  expect(saved.status(), await saved.text()).toBe(200);
  const started = await request.post("/api/v1/rollouts", {
    headers,
    data: {
      profileId: status.profile.id,
      revision: ((await saved.json()) as { number: number }).number,
      clusterIds: ["e2e-adopt"],
      strategy: { gateSeconds: 20 },
    },
  });
  expect(started.status(), await started.text()).toBe(200);
  const rolloutId = ((await started.json()) as { id: string }).id;
  await expect
    .poll(
      async () =>
        (
          (await (await request.get(`/api/v1/rollouts/${rolloutId}`, { headers })).json()) as {
            status: string;
          }
        ).status,
      { timeout: 60_000 },
    )
    .toBe("succeeded");

  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-adopt");
  const section = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await expect(section).toContainText("Secret ossensor-hmac");
  await expect(section).toContainText(
    "Tapfleet manages the DaemonSet and the key Secret its rollout created (Uninstall removes both, Release leaves both)",
  );
  await page.screenshot({ path: test.info().outputPath("adopted-with-key-secret.png") });
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.dismiss();
  });
  await page.getByRole("button", { name: "Uninstall", exact: true }).click();
  await expect.poll(() => asked).not.toBe("");
  expect(asked).toBe(
    "Delete the adopted DaemonSet default/ossensor (and so its pods) and what Tapfleet created for it: Secret ossensor-hmac? Nothing else is removed.",
  );
  // Dismissed: nothing removed.
  expect(sim.store.get("secrets", "default", "ossensor-hmac")).toBeDefined();
  expect(sim.store.get("daemonsets.apps", "default", "ossensor")).toBeDefined();
});

test("[sensor-install]: the install dialog downloads the YAML before installing, and kubectl applies it", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-gitops");
  const section = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await section.getByRole("button", { name: "Install the sensor" }).click();
  const dialog = page.getByRole("dialog", { name: "Install the sensor" });
  await dialog.getByRole("textbox", { name: "Collector host" }).fill("collector.example.com");
  await dialog.getByRole("textbox", { name: "Image" }).fill("tapfleet/agent:1.0.0");
  await page.screenshot({ path: test.info().outputPath("install-dialog.png") });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    dialog.getByRole("button", { name: "Download YAML" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("tapfleet-sensor-e2e-gitops.yaml");
  const file = path.join(directory, "downloaded.yaml");
  await download.saveAs(file);
  const yaml = await readFile(file, "utf8");
  expect(yaml).toContain("kind: DaemonSet");
  expect(yaml).toContain("kubectl create secret generic tapfleet-sensor-hmac");
  expect(yaml).not.toContain("kind: Secret");
  const applied = (await kubectl(gitops, "apply", "-f", file)).trim().split("\n");
  expect(applied).toContain("daemonset.apps/tapfleet-sensor created");
  expect(gitops.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")).toBeDefined();
  // Nothing was installed by downloading.
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(section).toContainText("Tapfleet has not installed the sensor here");
});
