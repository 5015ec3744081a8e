import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { ADMIN } from "../support/fixtures.ts";

// The Fleet page must be empty for its "Start a demo" button, and the run's
// shared server has clusters from other specs by now: this spec starts a
// server of its own, with a fresh database, the same way the run's is started.
let server: ChildProcess | undefined;
let state: string;
let url: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

test.beforeAll(async () => {
  state = mkdtempSync(path.join(tmpdir(), "tapfleet-e2e-demo-"));
  chmodSync(state, 0o755);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ["e2e/support/server.mjs"], {
    env: { ...process.env, PORT: String(port), TAPFLEET_E2E_STATE: state, TAPFLEET_DEMO: "available" },
    stdio: "ignore",
  });
  await expect
    .poll(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status, { timeout: 60_000 })
    .toBe(200);
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(state, { recursive: true, force: true });
});

test("[demo]: an admin starts the demo from the empty Fleet page and its sensors appear within 30 s", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${url}/login`);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto(`${url}/fleet`);

  const startedAt = Date.now();
  await page.getByRole("button", { name: "Start a demo" }).click();
  const notice = page.getByRole("alert", { name: "Demo running" });
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toContainText("veth pair in a network namespace");
  // Five healthy sensors of eight nodes (one excluded by a taint, one crash-looping, one silent), counting packets.
  await expect
    .poll(
      async () => {
        const answer = await page.request.get(`${url}/api/v1/sensors`);
        const { items } = (await answer.json()) as {
          items: Array<{ lastSummary: { packets: number } | null }>;
        };
        return items.filter((item) => (item.lastSummary?.packets ?? 0) > 0).length;
      },
      { timeout: Math.max(1000, 30_000 - (Date.now() - startedAt)) },
    )
    .toBe(5);
  await page.reload();
  await expect(notice).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("fleet-demo.png") });
  if (process.env.TAPFLEET_SCREENSHOT_DIR)
    await page.screenshot({ path: path.join(process.env.TAPFLEET_SCREENSHOT_DIR, "fleet-demo.png") });

  // Installed the way the dashboard installs: each cluster has an installed sensor with its status and export.
  for (const [clusterId, desired] of [
    ["demo-east", 2],
    ["demo-west", 5],
  ] as const) {
    const status = (await (await page.request.get(`${url}/api/v1/clusters/${clusterId}/sensor`)).json()) as {
      installed: boolean;
      reachable: boolean;
      installedBy: string;
      rollout: { desired: number } | null;
      objects: Array<{ kind: string; state: string }>;
    };
    expect(status).toMatchObject({ installed: true, reachable: true, installedBy: "demo" });
    expect(status.rollout?.desired).toBe(desired);
    expect(status.objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Namespace", "ServiceAccount", "Secret", "DaemonSet"]),
    );
    expect(status.objects.every((o) => o.state === "present")).toBe(true);
    const exported = await page.request.get(`${url}/api/v1/clusters/${clusterId}/sensor/manifests`);
    expect(exported.status()).toBe(200);
    // The export renders what was installed: the demo's own tolerations, not "tolerate everything".
    expect(await exported.text()).toContain("node-role.kubernetes.io/control-plane");
  }
  await page.goto(`${url}/clusters/demo-east`);
  const installed = page.getByRole("group", { name: "Sensor installed by Tapfleet" });
  await expect(installed.getByRole("button", { name: "Export YAML" })).toBeVisible({ timeout: 15_000 });
  await expect(installed.getByRole("button", { name: "Uninstall" })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("cluster-demo-east.png"), fullPage: true });

  // And uninstalled the same way: exactly what was installed goes.
  const uninstalled = await page.request.delete(`${url}/api/v1/clusters/demo-west/sensor`);
  expect(uninstalled.status(), await uninstalled.text()).toBe(200);
  const { removed, kept } = (await uninstalled.json()) as {
    removed: Array<{ kind: string }>;
    kept: Array<{ kind: string }>;
  };
  expect(removed.map((o) => o.kind)).toEqual(expect.arrayContaining(["DaemonSet", "Secret", "Namespace"]));
  expect(kept).toEqual([]);
  expect(
    (
      (await (await page.request.get(`${url}/api/v1/clusters/demo-west/sensor`)).json()) as {
        installed: boolean;
      }
    ).installed,
  ).toBe(false);

  await page.goto(`${url}/fleet`);
  await notice.getByRole("button", { name: "Stop the demo" }).click();
  await expect(page.getByRole("button", { name: "Start a demo" })).toBeVisible({ timeout: 30_000 });
  const clusters = (await (await page.request.get(`${url}/api/v1/clusters`)).json()) as {
    items: Array<{ id: string }>;
  };
  expect(clusters.items.map((c) => c.id)).toEqual([]);
});
