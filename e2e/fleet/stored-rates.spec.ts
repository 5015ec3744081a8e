// The Fleet page's rates from its first render: read from the stored reports with the page, not
// only from the next report on the live stream. The stream is cut here, so nothing else can show them.
import { expect, test } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { idleInterface, registerCluster, sendReport, type FakeAgent } from "../sensors/agent-support.ts";

const CLUSTER = "stored-rates";
const AGENT: FakeAgent = { clusterId: CLUSTER, nodeName: "node-1", podName: "tapfleet-sensor-rates" };

function eth0(packets: number) {
  return { ...idleInterface("eth0"), packets, bytes: packets * 100 };
}

test("[fleet]: a cluster's packets/s come with the page, before any live report", async ({
  page,
  request,
}) => {
  const key = await registerCluster(request, CLUSTER);
  // Two reports of one run: a rate over the time between them.
  await sendReport(request, key, AGENT, { sequence: 0, reportIntervalSeconds: 10, interfaces: [eth0(1000)] });
  await sendReport(request, key, AGENT, { sequence: 1, reportIntervalSeconds: 10, interfaces: [eth0(3000)] });

  await signIn(page, ADMIN);
  await page.route(/stats\.clusterLive/, (route) => route.abort());
  await page.goto("/fleet");
  const row = page.locator(`tr[data-cluster="${CLUSTER}"]`);
  await expect(row).toContainText(/\d [kMG]?pkt\/s/);

  // The Sensors list names the cluster's column by period and the cluster by its name.
  await page.goto(`/sensors?cluster=${CLUSTER}`);
  await expect(page.getByRole("columnheader", { name: "Packets since start" })).toBeVisible();
  await expect(
    page.getByRole("table", { name: "Sensors" }).getByRole("link", { name: CLUSTER }),
  ).toHaveAttribute("href", `/clusters/${CLUSTER}`);
});
