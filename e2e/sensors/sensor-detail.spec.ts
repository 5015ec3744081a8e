import { expect, test } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";
import { idleInterface, registerCluster, sendReport } from "./agent-support.ts";

const CLUSTER = "e2e-sensor-detail";
const AGENT = { clusterId: CLUSTER, nodeName: "chart-node", podName: "tapfleet-agent-chart1" };

function eth0(packets: number) {
  return {
    ...idleInterface("eth0"),
    packets,
    bytes: packets * 600,
    protocols: { ...idleInterface("eth0").protocols, ipv4: packets, tcp: packets },
  };
}

test("[sensors]: the sensor page charts the agent's rates, and a new report moves the chart live", async ({
  page,
  request,
}) => {
  const key = await registerCluster(request, CLUSTER);
  await sendReport(request, key, AGENT, { sequence: 0, reportIntervalSeconds: 10, interfaces: [eth0(1000)] });
  await sendReport(request, key, AGENT, { sequence: 1, reportIntervalSeconds: 10, interfaces: [eth0(3000)] });

  const csp: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) csp.push(message.text());
  });
  await signIn(page, ADMIN);
  await page.goto(`/sensors?cluster=${CLUSTER}`);
  // From the list, the pod's name leads to its page.
  await page.getByRole("link", { name: AGENT.podName }).click();
  await expect(page.getByRole("heading", { level: 1, name: AGENT.podName })).toBeVisible();
  await expect(page).toHaveURL(/\/sensors\/[0-9a-f-]{36}$/);
  await expect(page.getByText("Live updates connected")).toBeVisible();

  // Agent facts from its reports, the interfaces it captures, and the honest Kubernetes placeholder.
  await expect(page.getByText("0.1.0", { exact: true })).toBeVisible();
  await expect(page.getByText("0123456789abcdef", { exact: true })).toBeVisible();
  await expect(page.getByRole("table", { name: "Interfaces captured" }).getByText("eth0")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Kubernetes" })).toBeVisible();
  await expect(page.getByText(/appear here once the sensor's cluster is connected/)).toBeVisible();

  // The chart draws the points the reports make (two reports: the first counts from the agent start).
  const packets = page.getByRole("img", { name: "Packets per second" });
  await expect(packets).toBeVisible();
  const points = Number(await packets.getAttribute("data-points"));
  expect(points).toBeGreaterThanOrEqual(1);
  await expect(page.locator(".uplot canvas").first()).toBeVisible();
  await expect(page.getByText("TCP", { exact: true }).first()).toBeVisible();

  // A new report is drawn as it arrives, with no reload.
  await sendReport(request, key, AGENT, { sequence: 2, reportIntervalSeconds: 10, interfaces: [eth0(6000)] });
  await expect(packets).toHaveAttribute("data-points", String(points + 1), { timeout: 5_000 });
  await expect(
    page.getByRole("table", { name: "Interfaces captured" }).getByText("6K", { exact: true }),
  ).toBeVisible();

  // Longer ranges come from the rollups, by minute.
  await page.getByRole("radiogroup", { name: "Time range" }).getByText("1 h", { exact: true }).click();
  await expect(page.getByText("Averages per 1 min")).toBeVisible();
  await expect(packets).toBeVisible();

  expect(csp).toEqual([]);

  // The same series is the REST API's.
  const cookie = await apiSignIn(request, ADMIN);
  const sensorId = /\/sensors\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  const response = await request.get(`/api/v1/sensors/${sensorId}/stats?range=15m`, { headers: { cookie } });
  expect(response.status()).toBe(200);
  expect(((await response.json()) as { resolution: string }).resolution).toBe("report");
});
