import { expect, test, type Page } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";

test.use({
  viewport: { width: 1440, height: 900 },
  permissions: ["clipboard-read", "clipboard-write"],
});

const readClipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

test("[clusters]: registering a cluster shows the kubectl command with its key and the agent's env, each copied with one click; rotating shows them again with the new key", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters");
  // The header's button; the empty state (no cluster yet) has one of the same name.
  await page.getByRole("button", { name: "Register a cluster" }).first().click();
  const register = page.getByRole("dialog", { name: "Register a cluster" });
  await register.getByLabel("Cluster ID").fill("e2e-enroll");
  await register.getByRole("button", { name: "Register cluster" }).click();

  const dialog = page.getByRole("dialog", { name: "Copy the ingest key" });
  const secret = await dialog.getByRole("textbox", { name: "Ingest secret" }).inputValue();
  expect(secret.length).toBeGreaterThanOrEqual(16);
  // The browser's host is the default collector; this page came over plain HTTP, so port 443.
  await expect(dialog.getByLabel("VSENSOR_HOSTNAME")).toHaveValue("127.0.0.1");
  await expect(dialog.getByLabel("VSENSOR_PORT")).toHaveValue("443");
  await expect(dialog.getByText(/reachable over HTTPS from the cluster's nodes/)).toBeVisible();

  const command = dialog.locator("pre", { hasText: "kubectl create secret generic" });
  await expect(command).toContainText(
    "kubectl create secret generic tapfleet-sensor-hmac --namespace tapfleet-sensor",
  );
  await expect(command).toContainText(`--from-literal=hmac-key=`);
  await expect(command).toContainText(secret);
  const env = dialog.locator("pre", { hasText: "TAPFLEET_CLUSTER_ID" });
  await expect(env).toContainText('value: "e2e-enroll"');
  for (const variable of ["VSENSOR_HOSTNAME", "VSENSOR_PORT", "VSENSOR_HMAC_KEY", "VSENSOR_TLS_CA_FILE"])
    await expect(env).toContainText(`name: ${variable}`);
  // The key reaches the pod from the Secret only, never inline in the env.
  await expect(env).not.toContainText(secret);
  await page.screenshot({ path: test.info().outputPath("enrollment-dialog.png") });

  await dialog.getByRole("button", { name: "Copy command" }).click();
  await expect(dialog.getByRole("button", { name: "Copied" })).toBeVisible();
  const copiedCommand = await readClipboard(page);
  expect(copiedCommand).toContain(`--from-literal=hmac-key=${secret}`);
  expect(copiedCommand).toContain("kubectl create secret generic tapfleet-sensor-hmac");

  // Another host for the agents: the env follows, and its copy holds it.
  await dialog.getByLabel("VSENSOR_HOSTNAME").fill("tapfleet.example.com");
  await dialog.getByLabel("VSENSOR_PORT").fill("8443");
  await dialog.getByRole("button", { name: "Copy env" }).click();
  const copiedEnv = await readClipboard(page);
  expect(copiedEnv).toContain('- name: TAPFLEET_CLUSTER_ID\n    value: "e2e-enroll"');
  expect(copiedEnv).toContain('- name: VSENSOR_HOSTNAME\n    value: "tapfleet.example.com"');
  expect(copiedEnv).toContain('- name: VSENSOR_PORT\n    value: "8443"');
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByRole("row").filter({ hasText: "e2e-enroll" });
  await row.getByRole("button", { name: "Rotate key" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Issue new key" }).click();
  const rotated = page.getByRole("dialog", { name: "Copy the new ingest key" });
  const newSecret = await rotated.getByRole("textbox", { name: "Ingest secret" }).inputValue();
  expect(newSecret).not.toBe(secret);
  await expect(rotated.locator("pre", { hasText: "kubectl create secret generic" })).toContainText(newSecret);
  await expect(rotated.locator("pre", { hasText: "TAPFLEET_CLUSTER_ID" })).toContainText(
    'value: "e2e-enroll"',
  );
});
