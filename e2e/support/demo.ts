import { expect, type APIRequestContext, type Page } from "@playwright/test";

// The demo as specs on the run's shared server use it: started and stopped
// through the API, its sensors read through the API, a profile made from what
// a demo cluster runs, and a revision rolled out from the profile's page.

/** demo-east: three nodes, node-2 tainted so the sensor leaves it out; two agents capture. */
export const DEMO_EAST = { id: "demo-east", capturingNodes: ["node-1", "node-3"] } as const;

export interface DemoSensor {
  id: string;
  clusterId: string;
  nodeName: string;
  podName: string;
  configHash: string;
  lastSeenAt: string;
  lastSummary: {
    packets: number;
    agentStartedAt: string | null;
    interfaces: Array<{ name: string }>;
  } | null;
}

export async function startDemo(request: APIRequestContext, headers: Record<string, string>): Promise<void> {
  const started = await request.post("/api/v1/demo/start", { headers, data: {}, timeout: 60_000 });
  expect(started.status(), await started.text()).toBe(200);
}

export async function stopDemo(request: APIRequestContext, headers: Record<string, string>): Promise<void> {
  await request.post("/api/v1/demo/stop", { headers, data: {}, timeout: 60_000 });
}

/** The sensors of `nodes` in `clusterId`, as GET /api/v1/sensors lists them. */
export async function demoSensors(
  request: APIRequestContext,
  headers: Record<string, string>,
  clusterId: string,
  nodes: readonly string[],
): Promise<DemoSensor[]> {
  const answer = await request.get("/api/v1/sensors", { headers });
  expect(answer.status(), await answer.text()).toBe(200);
  const { items } = (await answer.json()) as { items: DemoSensor[] };
  return items.filter((item) => item.clusterId === clusterId && nodes.includes(item.nodeName));
}

/** Waits until every one of `nodes` has reported packets. */
export async function waitForDemoPackets(
  request: APIRequestContext,
  headers: Record<string, string>,
  clusterId: string,
  nodes: readonly string[],
): Promise<void> {
  await expect
    .poll(
      async () =>
        (await demoSensors(request, headers, clusterId, nodes)).filter(
          (sensor) => (sensor.lastSummary?.packets ?? 0) > 0,
        ).length,
      { timeout: 60_000 },
    )
    .toBe(nodes.length);
}

/**
 * A new profile whose first revision is what `clusterId` runs: the settings
 * the adoption preview reads from its DaemonSet.
 */
export async function createProfileFromCluster(
  request: APIRequestContext,
  headers: Record<string, string>,
  clusterId: string,
  name: string,
): Promise<{ profileId: string; settings: Record<string, unknown> }> {
  const sensor = (await (await request.get(`/api/v1/clusters/${clusterId}/sensor`, { headers })).json()) as {
    namespace: string;
    name: string;
  };
  const preview = await request.get(
    `/api/v1/clusters/${clusterId}/sensor/adopt-preview?namespace=${sensor.namespace}&name=${sensor.name}`,
    { headers },
  );
  expect(preview.status(), await preview.text()).toBe(200);
  const settings = ((await preview.json()) as { settings: Record<string, unknown> }).settings;
  const created = await request.post("/api/v1/profiles", {
    headers,
    data: { name, settings, message: `As ${clusterId} runs it` },
  });
  expect(created.status(), await created.text()).toBe(200);
  return { profileId: ((await created.json()) as { id: string }).id, settings };
}

/**
 * On a profile's page (open in `page`), starts a rollout of `revision` to
 * `clusterId` through the dialog, and waits for the rollout's page.
 */
export async function rollOutFromProfilePage(
  page: Page,
  options: { revision: number; clusterId: string; gateSeconds: number },
): Promise<void> {
  await page.getByRole("button", { name: `Roll out r${options.revision}` }).click();
  const dialog = page.getByRole("dialog", { name: "Start a rollout" });
  // "Clusters" and its required mark; not "Clusters per wave" or "Canary clusters".
  await dialog.getByLabel(/^Clusters\W*$/).click();
  await page.getByRole("option", { name: new RegExp(options.clusterId) }).click();
  await dialog
    .getByRole("textbox", { name: "Health gate deadline (seconds)" })
    .fill(String(options.gateSeconds));
  await dialog.getByRole("button", { name: "Start rollout" }).click();
  await expect(page).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/);
}
