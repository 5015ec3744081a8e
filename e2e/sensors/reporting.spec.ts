import { expect, test, type APIRequestContext } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";
import { registerCluster, sendReport } from "./agent-support.ts";

const CLUSTER = "e2e-reporting";
const AGENT = { clusterId: CLUSTER, nodeName: "quiet-node", podName: "tapfleet-agent-quiet1" };
/** Short, so that three missed reports take six seconds. */
const INTERVAL_SECONDS = 2;

interface ListedSensor {
  podName: string;
  lastSummary: { receivedAt: string } | null;
  reporting: { state: "reporting" | "silent"; silentAt: string; silentSince: string | null };
}

async function listSensors(request: APIRequestContext, cookie: string): Promise<ListedSensor[]> {
  const response = await request.get("/api/v1/sensors", { headers: { cookie } });
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { items: ListedSensor[] }).items;
}

test("[sensors]: a sensor whose reports stop is shown silent after three missed intervals, on Sensors and Fleet", async ({
  page,
  request,
}) => {
  const key = await registerCluster(request, CLUSTER);
  await signIn(page, ADMIN);
  await page.goto(`/sensors?cluster=${CLUSTER}`);
  // The connection badge speaks of the page's live updates, not of any sensor.
  await expect(page.getByText("Live updates connected")).toBeVisible();

  // The first report arrives over the live stream; the page shows the sensor reporting.
  await sendReport(request, key, AGENT, { sequence: 0, reportIntervalSeconds: INTERVAL_SECONDS });
  const row = page.getByRole("row").filter({ hasText: AGENT.podName });
  await expect(row.getByText("Reporting", { exact: true })).toBeVisible();

  // No further report: the badge turns silent by itself, with no reload.
  await expect(row.getByText("Silent", { exact: true })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByLabel("Sensor count")).toHaveText("1 sensor, 1 silent");

  // The server says so too, with the moment: the report's receipt plus three intervals.
  const cookie = await apiSignIn(request, ADMIN);
  const listed = (await listSensors(request, cookie)).find((sensor) => sensor.podName === AGENT.podName);
  expect(listed?.reporting.state).toBe("silent");
  const silentAt = Date.parse(listed!.lastSummary!.receivedAt) + 3 * INTERVAL_SECONDS * 1000;
  expect(Date.parse(listed!.reporting.silentAt)).toBe(silentAt);
  expect(Date.parse(listed!.reporting.silentSince!)).toBe(silentAt);

  // A new report brings it back, over the live stream.
  await sendReport(request, key, AGENT, { sequence: 1, reportIntervalSeconds: INTERVAL_SECONDS });
  await expect(row.getByText("Reporting", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Sensor count")).toHaveText("1 sensor, all reporting");

  // Fleet counts silent sensors with the same verdict: this one, once it is silent again, and
  // however many other sensors the server calls silent at that moment.
  await page.goto("/fleet");
  const sensorsStat = page.getByRole("group", { name: "Sensors" });
  await expect(async () => {
    const sensors = await listSensors(request, cookie);
    expect(sensors.find((sensor) => sensor.podName === AGENT.podName)?.reporting.state).toBe("silent");
    const silent = sensors.filter((sensor) => sensor.reporting.state === "silent").length;
    await expect(sensorsStat).toContainText(`${silent} silent`, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(sensorsStat).not.toContainText("all reporting");
});
