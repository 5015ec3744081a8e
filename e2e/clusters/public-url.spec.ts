import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN } from "../support/fixtures.ts";

// A server told where agents reach it (TAPFLEET_PUBLIC_URL): the key dialog,
// the install form and a new profile offer that host and port instead of
// guessing from the browser's address. The run's shared server has no such
// setting, so this spec starts one of its own, as the run's is started.
let server: ChildProcess | undefined;
let sim: RunningSimCluster | undefined;
let state: string;
let url: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async () => {
  state = mkdtempSync(path.join(tmpdir(), "tapfleet-e2e-public-url-"));
  chmodSync(state, 0o755);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ["e2e/support/server.mjs"], {
    env: {
      ...process.env,
      PORT: String(port),
      TAPFLEET_E2E_STATE: state,
      TAPFLEET_PUBLIC_URL: "https://tapfleet.example.com:8443",
    },
    stdio: "ignore",
  });
  sim = await startSimCluster({ nodes: 1, kubelet: "fake", name: "sim-public-url" });
  await expect
    .poll(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status, { timeout: 60_000 })
    .toBe(200);
});

test.afterAll(async () => {
  await sim?.stop();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(state, { recursive: true, force: true });
});

test("[clusters]: with TAPFLEET_PUBLIC_URL set, the key dialog, the install form and a new profile offer its host and port", async ({
  page,
}) => {
  await page.goto(`${url}/login`);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);

  await page.goto(`${url}/clusters`);
  // The header's button; the empty state (no cluster yet) has one of the same name.
  await page.getByRole("button", { name: "Register a cluster" }).first().click();
  const register = page.getByRole("dialog", { name: "Register a cluster" });
  await register.getByLabel("Cluster ID").fill("public-url");
  await register.getByRole("button", { name: "Register cluster" }).click();
  const dialog = page.getByRole("dialog", { name: "Copy the ingest key" });
  await expect(dialog.getByLabel("VSENSOR_HOSTNAME")).toHaveValue("tapfleet.example.com");
  await expect(dialog.getByLabel("VSENSOR_PORT")).toHaveValue("8443");
  await expect(dialog.getByText("the server's public address, TAPFLEET_PUBLIC_URL")).toBeVisible();
  await expect(dialog.locator("pre", { hasText: "TAPFLEET_CLUSTER_ID" })).toContainText(
    'value: "tapfleet.example.com"',
  );
  await page.screenshot({ path: test.info().outputPath("enrollment-public-url.png") });
  await dialog.getByRole("button", { name: "Done" }).click();

  const saved = await page.request.put(`${url}/api/v1/clusters/public-url/connection`, {
    headers: { "content-type": "application/json" },
    data: { kubeconfig: sim!.kubeconfig(), context: "sim-public-url" },
  });
  expect(saved.status(), await saved.text()).toBe(200);
  await page.goto(`${url}/clusters/public-url`);
  await page
    .getByRole("group", { name: "Sensor installed by Tapfleet" })
    .getByRole("button", { name: "Install the sensor" })
    .click();
  const install = page.getByRole("dialog", { name: "Install the sensor" });
  await expect(install.getByRole("textbox", { name: "Collector host" })).toHaveValue("tapfleet.example.com");
  await expect(install.getByRole("textbox", { name: "Collector port" })).toHaveValue("8443");
  await page.keyboard.press("Escape");
  await expect(install).toBeHidden();

  await page.goto(`${url}/configuration`);
  await page.getByRole("button", { name: "Create profile" }).first().click();
  const profile = page.getByRole("dialog", { name: "Create a profile" });
  await expect(profile.getByRole("textbox", { name: "Collector host" })).toHaveValue("tapfleet.example.com");
  await expect(profile.getByRole("textbox", { name: /Collector port/ })).toHaveValue("8443");
});
