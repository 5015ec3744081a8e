import { expect, test } from "@playwright/test";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";
import { idleInterface, registerCluster, sendReport } from "./agent-support.ts";

const CLUSTER = "e2e-sensor-kube";
const NAMESPACE = "tapfleet";

let sim: RunningSimCluster;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async () => {
  sim = await startSimCluster({ nodes: 1, kubelet: "fake", name: "sim-sensor-kube", crashAfterMs: 200 });
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
  const daemonSet = daemonSetFixture({
    name: "tapfleet-sensor",
    namespace: NAMESPACE,
    image: "tapfleet/agent:e2e",
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
});
test.afterAll(async () => {
  await sim?.stop();
});

test("[sensors]: the sensor page shows its pod's status, events and log from the cluster, followed live", async ({
  page,
  request,
}) => {
  const key = await registerCluster(request, CLUSTER);
  const cookie = await apiSignIn(request, ADMIN);
  const connected = await request.put(`/api/v1/clusters/${CLUSTER}/connection`, {
    headers: { cookie, "content-type": "application/json" },
    data: { kubeconfig: sim.kubeconfig(), context: sim.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);

  // The node and its running sensor pod, as the inventory has them.
  const node = sim.store.list("nodes").items[0]!.metadata.name!;
  await expect
    .poll(
      async () => {
        const answer = await request.get(`/api/v1/clusters/${CLUSTER}/nodes`, { headers: { cookie } });
        const items = ((await answer.json()) as { items?: { podName: string | null; state: string }[] })
          .items;
        return items?.find((item) => item.podName && item.state !== "pending")?.podName ?? null;
      },
      { message: "the sensor pod in the inventory", timeout: 20_000 },
    )
    .not.toBeNull();
  const pod = sim.store.list("pods").items.find((p) => p.metadata.namespace === NAMESPACE)!.metadata.name!;

  // The agent on that node reports, so the sensor has a page.
  const agent = { clusterId: CLUSTER, nodeName: node, podName: pod };
  await sendReport(request, key, agent, {
    sequence: 0,
    reportIntervalSeconds: 10,
    interfaces: [idleInterface("eth0")],
  });

  await signIn(page, ADMIN);
  await page.goto(`/sensors?cluster=${CLUSTER}`);
  await page.getByRole("link", { name: pod }).click();
  await expect(page.getByRole("heading", { level: 1, name: pod })).toBeVisible();

  const section = page.getByRole("region", { name: "Kubernetes" });
  const status = section.getByLabel("Pod status");
  await expect(status).toContainText("Running");
  await expect(status).toContainText("Ready");
  await expect(status).toContainText("tapfleet/agent:e2e");
  await expect(status).toContainText(`${NAMESPACE}/${pod}`);
  await expect(status).toContainText("None: the container has not ended");

  const log = section.getByRole("log", { name: `Log of pod ${pod}` });
  await expect(log).toContainText("kube-sim: container agent started (image tapfleet/agent:e2e)");
  await expect(section.getByText("Following live")).toBeVisible();
  await expect(section.getByRole("table", { name: `Events of Pod ${pod}` })).toContainText("Started");
  await page.screenshot({ path: test.info().outputPath("sensor-kubernetes.png"), fullPage: true });

  // The container writes and exits: the line arrives on the followed log, which then ends;
  // the inventory's change brings the restart and the last termination without a reload.
  sim.cluster.setCrashLoop((p) => p.metadata.name === pod, { exitCode: 2, message: "capture failed: e2e" });
  await expect(log).toContainText("capture failed: e2e");
  await expect(log).toContainText("kube-sim: container agent exited with code 2");
  await expect(section.getByText("Container exited — log ended")).toBeVisible();
  await expect(status).toContainText("exit code 2", { timeout: 15_000 });
  await expect(status.getByText("Error", { exact: true })).toBeVisible();

  // The previous run's log, and the node's events.
  await section.getByRole("switch", { name: "Previous container" }).click();
  await expect(log).toContainText("capture failed: e2e");
  await section.getByRole("radiogroup", { name: "Events of" }).getByText("Node", { exact: true }).click();
  await expect(
    section
      .getByRole("table", { name: `Events of Node ${node}` })
      .or(section.getByText(/No events about the node/)),
  ).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("sensor-kubernetes-crashed.png"), fullPage: true });
});
