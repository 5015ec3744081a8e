import { expect, test, type APIRequestContext } from "@playwright/test";
import {
  createProfileFromCluster,
  DEMO_EAST,
  demoSensors,
  rollOutFromProfilePage,
  startDemo,
  stopDemo,
  waitForDemoPackets,
} from "../support/demo.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// Rollouts on the demo's clusters, whose pods run the real agent (kube-sim's
// process kubelet) and report to this server. demo-east has three nodes; node-2
// is tainted, so two agents capture. A profile made from what runs there is
// changed three ways: a harmless change rolls out and every agent reports again
// with the new configuration; a change that makes the agent exit, and one that
// makes it capture nothing, are each stopped by the health gate and rolled back
// by themselves, with the reason on the rollout's page.

test.use({ viewport: { width: 1440, height: 900 } });
// One demo and one profile for the file: each test builds on the revision the one before left in force.
test.describe.configure({ mode: "serial" });

const CLUSTER = DEMO_EAST.id;
const CAPTURING_NODES = DEMO_EAST.capturingNodes;

let headers: Record<string, string>;
let profileId: string;

const sensorsOf = (request: APIRequestContext) => demoSensors(request, headers, CLUSTER, CAPTURING_NODES);

let latestRevision = 1;

async function saveRevision(request: APIRequestContext, settings: Record<string, unknown>, message: string) {
  const answer = await request.post(`/api/v1/profiles/${profileId}/revisions`, {
    headers,
    data: { settings, message, expectedLatest: latestRevision },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  latestRevision = ((await answer.json()) as { number: number }).number;
  return latestRevision;
}

async function startRollout(request: APIRequestContext, revision: number): Promise<string> {
  const answer = await request.post("/api/v1/rollouts", {
    headers,
    data: { profileId, revision, clusterIds: [CLUSTER], strategy: { gateSeconds: 20 } },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  return ((await answer.json()) as { id: string }).id;
}

let baseSettings: Record<string, unknown>;

test.beforeAll(async ({ request }) => {
  test.setTimeout(120_000);
  headers = { cookie: await apiSignIn(request, ADMIN), "content-type": "application/json" };
  await startDemo(request, headers);
  // Both capturing agents have reported packets.
  await waitForDemoPackets(request, headers, CLUSTER, CAPTURING_NODES);
  // The profile starts as what the cluster runs.
  ({ profileId, settings: baseSettings } = await createProfileFromCluster(
    request,
    headers,
    CLUSTER,
    "e2e-rollouts",
  ));
});

test.afterAll(async ({ request }) => {
  await stopDemo(request, headers);
});

test("[rollouts]: an operator rolls a harmless change out from the profile page; every pod gets it and its agent reports again", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  const before = await sensorsOf(request);
  // 2, not the default 1: the configuration (and the hash agents report) really changes.
  const settings = { ...baseSettings, debugLevel: 2 };
  const revision = await saveRevision(request, settings, "Debug level 2 everywhere");

  await signIn(page, ADMIN);
  await page.goto(`/configuration/${profileId}`);
  await rollOutFromProfilePage(page, { revision, clusterId: CLUSTER, gateSeconds: 60 });
  await expect(page.getByRole("heading", { name: `Rollout of e2e-rollouts r${revision}` })).toBeVisible();
  await expect(page.getByText("Succeeded", { exact: true }).first()).toBeVisible({ timeout: 120_000 });
  await page.screenshot({ path: test.info().outputPath("rollout-succeeded.png") });

  // Every capturing node's agent now runs in a new pod with the new configuration, and reports.
  const after = await sensorsOf(request);
  for (const node of CAPTURING_NODES) {
    const old = before.find((s) => s.nodeName === node)!;
    const now = after.find((s) => s.nodeName === node)!;
    expect(now.podName, node).not.toBe(old.podName);
    expect(now.configHash, node).not.toBe(old.configHash);
    expect(Date.parse(now.lastSeenAt), node).toBeGreaterThan(Date.parse(old.lastSeenAt));
  }
  const sensor = (await (await request.get(`/api/v1/clusters/${CLUSTER}/sensor`, { headers })).json()) as {
    profile: { id: string; revision: number } | null;
  };
  expect(sensor.profile).toMatchObject({ id: profileId, revision });

  // The list shows it with its outcome.
  await page.goto("/rollouts");
  const row = page.getByRole("row", { name: new RegExp(`e2e-rollouts r${revision}`) });
  await expect(row.getByText("Succeeded")).toBeVisible();
});

test("[rollouts]: a change that makes the agent exit at start is stopped by the gate and rolled back, with the reason on the page", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  const healthy = await sensorsOf(request);
  // An absolute path, so the contract accepts it; no such file exists, so the agent cannot set up
  // its TLS client and exits at start.
  const revision = await saveRevision(
    request,
    { ...baseSettings, tlsCaFile: "/nonexistent/tapfleet-ca.pem" },
    "A CA file that does not exist",
  );
  const id = await startRollout(request, revision);

  await signIn(page, ADMIN);
  await page.goto(`/rollouts/${id}`);
  await expect(page.getByText("Rolled back", { exact: true }).first()).toBeVisible({ timeout: 120_000 });
  const why = page
    .getByRole("alert")
    .filter({ hasText: /node-[13]/ })
    .first();
  await expect(why).toBeVisible();
  // The gate names the node, the crash with its exit code, and the agent's last words: the CA file it cannot read.
  await expect(why).toContainText(/node-[13]: (CrashLoopBackOff|Error|restarted \d+ times?), exit code \d+/);
  await expect(why).toContainText(/last message: .*\/nonexistent\/tapfleet-ca\.pem/);
  await page.screenshot({ path: test.info().outputPath("rollout-crash-rolled-back.png") });

  // The cluster is back on the revision it ran, and its agents report with the configuration from before.
  const sensor = (await (await request.get(`/api/v1/clusters/${CLUSTER}/sensor`, { headers })).json()) as {
    profile: { revision: number } | null;
  };
  expect(sensor.profile?.revision).not.toBe(revision);
  await expect
    .poll(
      async () =>
        (await sensorsOf(request)).filter(
          (s) => s.configHash === healthy.find((h) => h.nodeName === s.nodeName)?.configHash,
        ).length,
      { timeout: 60_000 },
    )
    .toBe(CAPTURING_NODES.length);
});

test("[rollouts]: a change that makes the agent capture nothing is stopped by the gate and rolled back, with the reason on the page", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  // libpcap compiles it, and no packet on the demo's links matches it: the agents run and capture nothing.
  const revision = await saveRevision(
    request,
    { ...baseSettings, bpf: "ether proto 0x88b5" },
    "A filter that matches nothing",
  );
  const id = await startRollout(request, revision);

  await signIn(page, ADMIN);
  await page.goto(`/rollouts/${id}`);
  await expect(page.getByText("Rolled back", { exact: true }).first()).toBeVisible({ timeout: 120_000 });
  const why = page
    .getByRole("alert")
    .filter({ hasText: /node-[13]/ })
    .first();
  await expect(why).toContainText(/captur|packets|counters/i);
  await page.screenshot({ path: test.info().outputPath("rollout-nothing-rolled-back.png") });
});

test("[rollouts]: an operator aborts after a confirmation saying what abort does; the cluster under way rolls back in the abort's words and the next wave reads not started", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  const revision = await saveRevision(request, { ...baseSettings, debugLevel: 3 }, "Debug level 3, aborted");
  // demo-east first as the canary, then demo-west: the gate is long enough to abort during it.
  const answer = await request.post("/api/v1/rollouts", {
    headers,
    data: {
      profileId,
      revision,
      clusterIds: [CLUSTER, "demo-west"],
      strategy: { canaryClusterIds: [CLUSTER], waveSize: 1, gateSeconds: 600 },
    },
  });
  expect(answer.status(), await answer.text()).toBe(200);
  const id = ((await answer.json()) as { id: string }).id;

  await signIn(page, ADMIN);
  await page.goto(`/rollouts/${id}`);
  const west = page.getByLabel("Cluster demo-west");
  await expect(west.getByText("Waits for the clusters before it to pass their health gate.")).toBeVisible({
    timeout: 30_000,
  });

  await page.getByRole("button", { name: "Abort", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Abort this rollout?" });
  await expect(dialog).toContainText("rolled back to their template from before the rollout");
  await expect(dialog).toContainText("no other cluster starts");
  await dialog.getByRole("button", { name: "Abort rollout" }).click();

  await expect(west.getByText("Not started: the rollout was aborted.")).toBeVisible({ timeout: 30_000 });
  await expect(west.getByText("Not started", { exact: true })).toBeVisible();
  await expect(west.getByText(/waits for the clusters/i)).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("rollout-aborting.png") });

  // The end: demo-east back on its template from before, demo-west skipped, the rollout aborted.
  const east = page.getByLabel(`Cluster ${CLUSTER}`);
  await expect(east.getByText("Rolled back", { exact: true })).toBeVisible({ timeout: 120_000 });
  await expect(west.getByText("Skipped", { exact: true })).toBeVisible();
  await expect(page.getByText("Aborted", { exact: true })).toHaveCount(2); // the badge and the reason's title
  // One wording, naming who aborted: the rollout's reason and the rolled-back cluster's are the same.
  const rolloutReason = (
    await page
      .getByRole("alert")
      .filter({ hasText: /^Aborted/ })
      .first()
      .innerText()
  )
    .replace(/^Aborted\s*/, "")
    .trim();
  expect(rolloutReason).toMatch(/^aborted by \S/);
  expect(rolloutReason).not.toContain("an operator");
  await expect(east.getByRole("alert")).toHaveText(rolloutReason);
  await page.screenshot({ path: test.info().outputPath("rollout-aborted.png") });
});
