import { expect, test } from "@playwright/test";
import { parse, stringify } from "yaml";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake", name: "sim-e2e" });
  const cookie = await apiSignIn(request, ADMIN);
  for (const id of ["e2e-pasted", "e2e-uploaded"]) {
    const created = await request.post("/api/v1/clusters", {
      headers: { cookie, "content-type": "application/json" },
      data: { id },
    });
    expect(created.status(), await created.text()).toBe(200);
  }
});
test.afterAll(async () => {
  await sim?.stop();
});

function execPluginKubeconfig(): string {
  const doc = parse(sim.kubeconfig()) as { users: Array<{ user: unknown }> };
  doc.users[0]!.user = {
    exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token"] },
  };
  return stringify(doc);
}

test("[clusters]: a cluster is connected from a simulator's kubeconfig, pasted or uploaded; an exec plugin is refused at the field", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters");
  const pastedRow = page.getByRole("row").filter({ hasText: "e2e-pasted" });
  await expect(pastedRow).toContainText("Not connected");
  await pastedRow.getByRole("button", { name: "Connect" }).click();

  const dialog = page.getByRole("dialog", { name: "Connect “e2e-pasted” to Kubernetes" });
  const kubeconfig = dialog.getByRole("textbox", { name: "Kubeconfig" });
  await kubeconfig.fill(execPluginKubeconfig());
  await expect(dialog.getByText(/users\[0\]\.user\.exec: exec plugins are not supported/)).toBeVisible();
  await expect(
    dialog.locator("pre", { hasText: "kubectl create serviceaccount tapfleet -n tapfleet" }),
  ).toBeVisible();
  await expect(kubeconfig).toHaveAttribute("aria-invalid", "true");
  await page.screenshot({ path: test.info().outputPath("connect-refused.png") });

  await kubeconfig.fill(sim.kubeconfig());
  await expect(dialog.getByLabel("Context", { exact: true })).toHaveValue(`sim-e2e — ${sim.url} (token)`);
  await expect(kubeconfig).not.toHaveAttribute("aria-invalid", "true");
  await page.screenshot({ path: test.info().outputPath("connect-dialog.png") });
  await dialog.getByRole("button", { name: "Test and save" }).click();
  await expect(dialog).toBeHidden();
  await expect(pastedRow).toContainText("reachable");
  await expect(pastedRow).toContainText("2 nodes");
  await expect(pastedRow).toContainText(/Kubernetes v1\.\d+/);

  const uploadedRow = page.getByRole("row").filter({ hasText: "e2e-uploaded" });
  await uploadedRow.getByRole("button", { name: "Connect" }).click();
  const uploadDialog = page.getByRole("dialog", { name: "Connect “e2e-uploaded” to Kubernetes" });
  await uploadDialog.locator('input[type="file"]').setInputFiles({
    name: "sim-e2e.kubeconfig",
    mimeType: "text/plain",
    buffer: Buffer.from(sim.kubeconfig()),
  });
  await expect(uploadDialog.getByText("From sim-e2e.kubeconfig.", { exact: false })).toBeVisible();
  await expect(uploadDialog.getByLabel("Context", { exact: true })).toHaveValue(/^sim-e2e — /);
  await uploadDialog.getByRole("button", { name: "Test and save" }).click();
  await expect(uploadDialog).toBeHidden();
  await expect(uploadedRow).toContainText("reachable");
  await expect(page.getByText(sim.token)).toHaveCount(0);
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("clusters.png") });
});
