import { expect, test, type Page } from "@playwright/test";
import { stringify as toYaml } from "yaml";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import {
  createSimCluster,
  kubeconfigFor,
  startApiServer,
  type ApiServer,
  type SimCluster,
} from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// What the browser shows as a simulated cluster changes: the cluster page's nodes table and the
// Fleet page's row for the cluster, open side by side, each within 2 s of the simulator's change.
// The cluster's API server runs apart from the cluster (its store, controllers and fake kubelet),
// so it can be stopped and started again on the same port while the cluster lives on.
const CLUSTER = "e2e-node-states";
const TOKEN = "e2e-node-states-token";
const CONTEXT = "sim-node-states";
/** The bound for a change in the cluster to be on screen. */
const SHOWN_WITHIN_MS = 2_000;
/** The bound for a lost cluster to be shown unreachable. */
const UNREACHABLE_WITHIN_MS = 10_000;

let cluster: SimCluster;
let api: ApiServer;
let clusterPage: Page;
let fleetPage: Page;

test.use({ viewport: { width: 1440, height: 900 } });
test.describe.configure({ mode: "serial" });

function startApi(port?: number): Promise<ApiServer> {
  return startApiServer({
    store: cluster.store,
    token: TOKEN,
    logs: cluster.logs,
    bookmarkIntervalMs: 1_000,
    port,
  });
}

test.beforeAll(async ({ request, browser }) => {
  // A crashing container runs 200 ms before it exits, so a crash loop starts at once.
  cluster = createSimCluster({ nodes: 3, kubelet: "fake", crashAfterMs: 200 });
  cluster.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  // No agent reports; a long report interval keeps the running nodes "starting" (not "silent").
  const daemonSet = daemonSetFixture({
    name: "tapfleet-sensor",
    namespace: "tapfleet",
    env: [{ name: "TAPFLEET_REPORT_INTERVAL", value: "600" }],
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  // A failed container's last log lines become its termination message (FallbackToLogsOnError).
  const template = daemonSet.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
  template.template.spec.containers[0]!.terminationMessagePolicy = "FallbackToLogsOnError";
  cluster.store.create("daemonsets.apps", daemonSet);
  api = await startApi();

  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: CLUSTER } });
  // 409: a retry of this file in a new worker finds the cluster registered.
  expect([200, 409], await created.text()).toContain(created.status());
  const kubeconfig = toYaml(
    kubeconfigFor([{ name: CONTEXT, url: api.url, token: TOKEN, caCertificate: api.caCertificate }]),
  );
  const connected = await request.put(`/api/v1/clusters/${CLUSTER}/connection`, {
    headers,
    data: { kubeconfig, context: CONTEXT },
  });
  expect(connected.status(), await connected.text()).toBe(200);

  // Two tabs of one signed-in browser: the cluster page and the Fleet page.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  clusterPage = await context.newPage();
  await signIn(clusterPage, ADMIN);
  fleetPage = await context.newPage();
  await clusterPage.goto(`/clusters/${CLUSTER}`);
  await fleetPage.goto("/fleet");
  for (const page of [clusterPage, fleetPage])
    await expect(page.getByText("Live updates connected")).toBeVisible({ timeout: 15_000 });
  const table = clusterPage.getByRole("table", { name: "Nodes" });
  for (const node of ["node-1", "node-2", "node-3"])
    await expect(table.locator(`[data-node="${node}"]`)).toHaveAttribute("data-state", "starting", {
      timeout: 15_000,
    });
  await expect(fleetRow().locator('[data-state="starting"]')).toHaveText("3 starting");
});

test.afterAll(async () => {
  await clusterPage?.context().close();
  await api?.close();
  await cluster?.stop();
});

function nodeRow(node: string) {
  return clusterPage.getByRole("table", { name: "Nodes" }).locator(`[data-node="${node}"]`);
}
function fleetRow() {
  return fleetPage.locator(`tr[data-cluster="${CLUSTER}"]`);
}

/** The nodes table and the Fleet page as they are now, for a look. */
async function screenshots(name: string) {
  await clusterPage
    .getByRole("table", { name: "Nodes" })
    .screenshot({ path: test.info().outputPath(`cluster-nodes-${name}.png`) });
  await fleetPage.screenshot({ path: test.info().outputPath(`fleet-${name}.png`) });
}

/**
 * Waits (on the DOM, checked every 50 ms) until `predicate` holds in `page`, then returns the time
 * since `changedAt` and checks it against `boundMs`. The measurement is kept in the test's annotations.
 */
async function shownWithin<Arg>(
  what: string,
  page: Page,
  changedAt: number,
  boundMs: number,
  predicate: (arg: Arg) => boolean,
  arg: Arg,
): Promise<number> {
  await page
    // The predicate runs in the page, its argument serialised: Playwright's generic types cannot follow.
    .waitForFunction(predicate as (arg: unknown) => boolean, arg as unknown, {
      polling: 50,
      timeout: boundMs + 1_000,
    })
    .catch((error: unknown) => {
      throw new Error(`${what}: not shown within ${boundMs + 1_000} ms`, { cause: error });
    });
  const elapsed = Date.now() - changedAt;
  test.info().annotations.push({ type: "shown after", description: `${what}: ${elapsed} ms` });
  expect(elapsed, `${what} shown after ${elapsed} ms`).toBeLessThan(boundMs);
  return elapsed;
}

/** The nodes table's row of `node` has `state` (and, when given, shows `text`). */
function rowHas({ node, state, text }: { node: string; state: string; text?: string }): boolean {
  const row = document.querySelector(`[role="table"][aria-label="Nodes"] [data-node="${node}"]`);
  return (
    row?.getAttribute("data-state") === state &&
    (text === undefined || (row.textContent ?? "").includes(text))
  );
}

/** The Fleet page's row of the cluster counts exactly these states (every other state absent). */
function fleetCounts({ cluster, counts }: { cluster: string; counts: Record<string, number> }): boolean {
  const row = document.querySelector(`tr[data-cluster="${cluster}"]`);
  if (!row) return false;
  const shown: Record<string, number> = {};
  for (const badge of row.querySelectorAll("[data-state]")) {
    const state = badge.getAttribute("data-state")!;
    shown[state] = Number.parseInt(badge.textContent ?? "", 10);
  }
  const keys = new Set([...Object.keys(shown), ...Object.keys(counts)]);
  return [...keys].every((key) => shown[key] === counts[key]);
}

function podOn(node: string): string {
  const pods = cluster.store
    .list("pods", { namespace: "tapfleet" })
    .items.filter(
      (pod) => (pod.spec as { nodeName?: string }).nodeName === node && !pod.metadata.deletionTimestamp,
    );
  expect(pods, `one pod on ${node}`).toHaveLength(1);
  return pods[0]!.metadata.name!;
}

test("[fleet]: a deleted pod, a new node, a node going NotReady and a crash loop each show within 2 s", async () => {
  // A deleted pod: the DaemonSet controller replaces it, the row names the new pod.
  const oldPod = podOn("node-1");
  let changedAt = Date.now();
  cluster.store.delete("pods", "tapfleet", oldPod);
  await shownWithin(
    "a replaced pod",
    clusterPage,
    changedAt,
    SHOWN_WITHIN_MS,
    ({ oldPod }) => {
      const row = document.querySelector('[role="table"][aria-label="Nodes"] [data-node="node-1"]');
      const text = row?.textContent ?? "";
      return (
        row?.getAttribute("data-state") === "starting" &&
        !text.includes(oldPod) &&
        /tapfleet-sensor-/.test(text)
      );
    },
    { oldPod },
  );
  await expect(nodeRow("node-1")).toContainText(podOn("node-1"));

  // A new node: the controller gives it a pod, the kubelet runs it.
  changedAt = Date.now();
  cluster.addNode("node-4");
  await Promise.all([
    shownWithin("a new node, cluster page", clusterPage, changedAt, SHOWN_WITHIN_MS, rowHas, {
      node: "node-4",
      state: "starting",
    }),
    shownWithin("a new node, Fleet page", fleetPage, changedAt, SHOWN_WITHIN_MS, fleetCounts, {
      cluster: CLUSTER,
      counts: { starting: 4 },
    }),
  ]);
  await expect(clusterPage.getByRole("table", { name: "Nodes" }).locator("[data-node]")).toHaveCount(4);
  await expect(nodeRow("node-4")).toContainText(podOn("node-4"));

  // A node whose kubelet reports NotReady.
  changedAt = Date.now();
  cluster.setNodeReady("node-3", false);
  await Promise.all([
    shownWithin("a NotReady node, cluster page", clusterPage, changedAt, SHOWN_WITHIN_MS, rowHas, {
      node: "node-3",
      state: "node-not-ready",
    }),
    shownWithin("a NotReady node, Fleet page", fleetPage, changedAt, SHOWN_WITHIN_MS, fleetCounts, {
      cluster: CLUSTER,
      counts: { starting: 3, "node-not-ready": 1 },
    }),
  ]);
  await expect(fleetRow().locator('[data-state="node-not-ready"]')).toHaveText("1 node-not-ready");
  const notReadyBadge = nodeRow("node-3").locator('[data-state="node-not-ready"] .mantine-Badge-label');
  await expect(notReadyBadge).toHaveText("node-not-ready");
  expect(await notReadyBadge.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);

  // A crash loop: the row says how often the container restarted and how it last ended.
  const crashing = podOn("node-2");
  changedAt = Date.now();
  cluster.setCrashLoop((pod) => pod.metadata.name === crashing, {
    exitCode: 1,
    message: "capture: eth0: permission denied",
  });
  await Promise.all([
    shownWithin("a crash loop, cluster page", clusterPage, changedAt, SHOWN_WITHIN_MS, rowHas, {
      node: "node-2",
      state: "crash-looping",
      text: "1 restart · Error, exit code 1",
    }),
    shownWithin("a crash loop, Fleet page", fleetPage, changedAt, SHOWN_WITHIN_MS, fleetCounts, {
      cluster: CLUSTER,
      counts: { starting: 2, "crash-looping": 1, "node-not-ready": 1 },
    }),
  ]);
  const looping = nodeRow("node-2");
  // The restart count and the last exit on a line of their own, in full (the reason is clamped).
  const headline = looping.getByText(/^\d+ restarts? · Error, exit code 1$/);
  await expect(headline).toBeVisible();
  for (const text of [headline, looping.locator('[data-state="crash-looping"] .mantine-Badge-label')])
    expect(await text.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
  // Under it, the last line of the termination message (the log's tail, as the pod's status has it).
  const status = cluster.store.get("pods", "tapfleet", crashing)!.status as {
    containerStatuses: { lastState: { terminated?: { message?: string } } }[];
  };
  const terminationMessage = status.containerStatuses[0]!.lastState.terminated?.message ?? "";
  expect(terminationMessage).toContain("capture: eth0: permission denied");
  const message = looping.getByText(terminationMessage.trim().split("\n").at(-1)!, { exact: true });
  await expect(message).toBeVisible();
  // The whole reason, the message's lines included, on hover.
  await message.hover();
  const tooltip = clusterPage.getByRole("tooltip");
  await expect(tooltip).toContainText(
    `Container agent of pod ${crashing} keeps crashing: restarted 1 time; last exit Error (exit code 1)`,
  );
  await expect(tooltip).toContainText("capture: eth0: permission denied");
  await expect(fleetRow().locator('[data-state="crash-looping"]')).toHaveText("1 crash-looping");
  await clusterPage.mouse.move(0, 0);
  await expect(tooltip).toBeHidden();
  await screenshots("node-states");
});

test("[fleet]: a cluster whose API goes away shows unreachable with its last states stale, and recovers without a restart", async () => {
  // Refuse requests first so every request in flight ends, then close the API server.
  const port = api.port;
  api.faults.fail({ code: 503 });
  const stoppedAt = Date.now();
  await api.close();

  await Promise.all([
    shownWithin(
      "unreachable, cluster page",
      clusterPage,
      stoppedAt,
      UNREACHABLE_WITHIN_MS,
      () => {
        const connection = document.querySelector('[role="group"][aria-label="Connection"]');
        const rows = [...document.querySelectorAll('[role="table"][aria-label="Nodes"] [data-node]')];
        return (
          (connection?.textContent ?? "").includes("unreachable") &&
          rows.length === 4 &&
          rows.every(
            (row) => row.getAttribute("data-state") === "unreachable" && row.textContent?.includes("stale"),
          )
        );
      },
      undefined,
    ),
    shownWithin(
      "unreachable, Fleet page",
      fleetPage,
      stoppedAt,
      UNREACHABLE_WITHIN_MS,
      ({ cluster }) => {
        const row = document.querySelector(`tr[data-cluster="${cluster}"]`);
        return (
          row?.querySelector("[data-connection-state]")?.getAttribute("data-connection-state") ===
            "unreachable" &&
          row.querySelector('[data-state="unreachable"]')?.textContent === "4 unreachable" &&
          (row.textContent ?? "").includes("stale")
        );
      },
      { cluster: CLUSTER },
    ),
  ]);
  // The last known states stay on screen, marked stale, with what went wrong.
  await expect(clusterPage.getByRole("group", { name: "Connection" })).toContainText("does not answer");
  await expect(nodeRow("node-2")).toContainText("cannot be reached");
  // The DaemonSet's status is the last one seen, and says so instead of "Rolled out".
  const daemonSetStatus = clusterPage.getByRole("group", { name: /^DaemonSet / }).first();
  await expect(daemonSetStatus).toContainText("Last known");
  await expect(daemonSetStatus).not.toContainText("Rolled out");
  // Both marks fit the state column in full.
  const labels = nodeRow("node-2").locator(".mantine-Badge-label");
  await expect(labels).toHaveText(["unreachable", "stale"]);
  for (const label of await labels.all())
    expect(await label.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
  await screenshots("unreachable");

  // The API server comes back on the same address: the same server process picks the cluster up again.
  api = await startApi(port);
  const backAt = Date.now();
  await Promise.all([
    shownWithin(
      "reachable again, cluster page",
      clusterPage,
      backAt,
      UNREACHABLE_WITHIN_MS,
      () => {
        const connection = document.querySelector('[role="group"][aria-label="Connection"]');
        const state = (node: string) =>
          document
            .querySelector(`[role="table"][aria-label="Nodes"] [data-node="${node}"]`)
            ?.getAttribute("data-state");
        const rows = [...document.querySelectorAll('[role="table"][aria-label="Nodes"] [data-node]')];
        return (
          (connection?.textContent ?? "").includes("reachable") &&
          !(connection?.textContent ?? "").includes("unreachable") &&
          state("node-1") === "starting" &&
          state("node-2") === "crash-looping" &&
          state("node-3") === "node-not-ready" &&
          state("node-4") === "starting" &&
          rows.every((row) => !row.textContent?.includes("stale"))
        );
      },
      undefined,
    ),
    shownWithin("reachable again, Fleet page", fleetPage, backAt, UNREACHABLE_WITHIN_MS, fleetCounts, {
      cluster: CLUSTER,
      counts: { starting: 2, "crash-looping": 1, "node-not-ready": 1 },
    }),
  ]);
  await expect(fleetRow().locator("[data-connection-state]")).toHaveAttribute(
    "data-connection-state",
    "reachable",
  );
  await expect(fleetRow()).not.toContainText("stale");
});
