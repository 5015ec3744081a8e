import { expect, test } from "@playwright/test";
import { agentStatsReport, signedStatsReport } from "../support/agent-reports.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

test.use({ viewport: { width: 1440, height: 900 } });

const CLUSTER = "e2e-prod-eu";

test.beforeAll(async ({ request }) => {
  const cookie = await apiSignIn(request, ADMIN);
  const created = await request.post("/api/v1/clusters", {
    headers: { cookie, "content-type": "application/json" },
    data: { id: CLUSTER },
  });
  expect(created.status(), await created.text()).toBe(200);
  const cluster = (await created.json()) as { keyId: string; secret: string };
  // One agent report listing the node's interfaces, signed as a real agent signs it.
  const report = agentStatsReport(
    { clusterId: CLUSTER, nodeName: "eu-node-1", sequence: 0 },
    { nodeInterfaces: ["cni0", "eth0", "eth1", "lo", "veth3f2a"] },
  );
  const signed = signedStatsReport(cluster, report);
  const sent = await request.post(signed.path, { headers: signed.headers, data: signed.body });
  expect(sent.status(), await sent.text()).toBe(200);
});

test("[configuration]: a profile is created, an invalid BPF is refused at the field, two revisions are compared, and a cluster override shows its source", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Configuration" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Configuration" })).toBeVisible();

  const emptyOrList = page.getByRole("button", { name: "Create profile" });
  await emptyOrList.click();
  const dialog = page.getByRole("dialog", { name: "Create a profile" });
  await dialog.getByRole("textbox", { name: "Name", exact: true }).fill("edge-sensors");
  await dialog.getByRole("textbox", { name: "Collector host" }).fill("collector.example.com");
  const bpf = dialog.getByRole("textbox", { name: "BPF filter" });
  await bpf.fill("tcp and");
  await expect(dialog.getByText(/BPF: "tcp and" is not a valid filter/)).toBeVisible();
  await expect(bpf).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.getByRole("button", { name: "Create profile" })).toBeDisabled();
  await page.screenshot({ path: test.info().outputPath("create-refused.png") });
  await bpf.fill("tcp");
  await dialog.getByRole("textbox", { name: "Exclude interfaces" }).fill("^veth");
  await dialog.getByRole("button", { name: "Create profile" }).click();

  await expect(page.getByRole("heading", { level: 1, name: "edge-sensors" })).toBeVisible();
  await expect(page.getByText(/r1, saved/)).toBeVisible();

  // The preview: what eu-node-1 would capture with these settings.
  const preview = page.getByRole("table", { name: "Interface preview" });
  const nodeRow = preview.getByRole("row").filter({ hasText: "eu-node-1" });
  await expect(nodeRow).toContainText("3 of 5 captured");
  await expect(nodeRow).toContainText("veth3f2a · excluded");
  await expect(nodeRow).toContainText("lo · loopback");

  // r2: another filter and debug level.
  await page.getByRole("textbox", { name: "BPF filter" }).fill("tcp or udp port 53");
  await page.getByRole("textbox", { name: "Debug level" }).fill("3");
  await page.getByLabel("What changed and why").fill("DNS too, more logs");
  await page.getByRole("button", { name: "Save revision" }).click();
  await expect(page.getByText(/r2, saved/)).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("profile-settings.png"), fullPage: true });

  await page.getByRole("tab", { name: /History/ }).click();
  const differences = page.getByRole("table", { name: "Differences" });
  await expect(differences.getByRole("row").filter({ hasText: "BPF" })).toContainText("changed");
  await expect(differences.getByRole("row").filter({ hasText: "BPF" })).toContainText("tcp or udp port 53");
  await expect(differences.getByRole("row").filter({ hasText: "OSSENSOR_DEBUG" })).toContainText("added");
  await page.screenshot({ path: test.info().outputPath("profile-history.png"), fullPage: true });

  await page.getByRole("tab", { name: /Cluster overrides/ }).click();
  await page.getByRole("combobox", { name: "Cluster" }).click();
  await page.getByRole("option", { name: CLUSTER }).click();
  await page.getByRole("button", { name: "Override settings" }).click();
  const overrideDialog = page.getByRole("dialog", { name: `Override settings for ${CLUSTER}` });
  await overrideDialog.getByRole("textbox", { name: "Collector host" }).fill("eu.collector.example.com");
  await overrideDialog.getByRole("button", { name: "Save override" }).click();
  await expect(overrideDialog).toBeHidden();
  const merged = page.getByRole("table", { name: "Effective settings" });
  const host = merged.getByRole("row").filter({ hasText: "VSENSOR_HOSTNAME" });
  await expect(host).toContainText("eu.collector.example.com");
  await expect(host).toContainText(`override for ${CLUSTER}`);
  await expect(merged.getByRole("row").filter({ hasText: "BPF" })).toContainText("profile r2");
  await expect(merged.getByRole("row").filter({ hasText: "VSENSOR_PORT" })).toContainText("default");
  await page.screenshot({ path: test.info().outputPath("profile-overrides.png"), fullPage: true });

  await page.goto("/configuration");
  await expect(page.getByRole("row").filter({ hasText: "edge-sensors" })).toContainText("r2");
  await page.screenshot({ path: test.info().outputPath("profiles-list.png") });
});
