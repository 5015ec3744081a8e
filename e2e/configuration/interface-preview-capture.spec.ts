import { expect, test, type Page } from "@playwright/test";
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

// The profile editor's interface preview against real capture: the demo's
// agents run inside their node's network namespace (lo and eth0) and capture
// what the DaemonSet's settings select there. The preview of an include list
// that also asks for lo (left out by default, as loopback) is read per node on
// the profile's page, rolled out to demo-east, and each node's agent then
// reports capturing exactly the interfaces its preview named.

test.use({ viewport: { width: 1440, height: 900 } });

const CLUSTER = DEMO_EAST.id;
const NODES = DEMO_EAST.capturingNodes;

let headers: Record<string, string>;
let profileId: string;

test.beforeAll(async ({ request }) => {
  test.setTimeout(120_000);
  headers = { cookie: await apiSignIn(request, ADMIN), "content-type": "application/json" };
  await startDemo(request, headers);
  await waitForDemoPackets(request, headers, CLUSTER, NODES);
  ({ profileId } = await createProfileFromCluster(request, headers, CLUSTER, "e2e-interface-preview"));
});

test.afterAll(async ({ request }) => {
  await stopDemo(request, headers);
});

/** One node's row of the preview: the interfaces it would capture, and those it would not (with why). */
async function previewRow(page: Page, nodeName: string): Promise<{ captured: string[]; skipped: string[] }> {
  const row = page
    .getByRole("table", { name: "Interface preview" })
    .getByRole("row")
    .filter({ has: page.getByRole("cell", { name: CLUSTER, exact: true }) })
    .filter({ has: page.getByText(nodeName, { exact: true }) });
  // A captured interface's badge reads its name; one left out reads "name · why".
  const badges = await row.getByRole("cell").nth(2).locator(".mantine-Badge-label").allInnerTexts();
  return {
    captured: badges.filter((text) => !text.includes("·")).sort(),
    skipped: badges.filter((text) => text.includes("·")).sort(),
  };
}

test("[configuration]: the interface preview of an include list matches what each node's agent captures once it is rolled out", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  const before = await demoSensors(request, headers, CLUSTER, NODES);
  expect(before).toHaveLength(NODES.length);

  await signIn(page, ADMIN);
  await page.goto(`/configuration/${profileId}`);
  // As the cluster runs: each node reports its namespace's interfaces, and loopback is left out.
  for (const node of NODES)
    await expect
      .poll(() => previewRow(page, node))
      .toEqual({ captured: ["eth0"], skipped: ["lo · loopback"] });

  await page.getByRole("textbox", { name: "Include interfaces" }).fill("^lo$ ^eth[0-9]+$");
  const preview: Record<string, string[]> = {};
  for (const node of NODES) {
    await expect.poll(() => previewRow(page, node)).toEqual({ captured: ["eth0", "lo"], skipped: [] });
    preview[node] = (await previewRow(page, node)).captured;
  }
  await page.screenshot({ path: test.info().outputPath("interface-preview.png"), fullPage: true });

  await page.getByLabel("What changed and why").fill("Capture lo as well");
  await page.getByRole("button", { name: "Save revision" }).click();
  await rollOutFromProfilePage(page, { revision: 2, clusterId: CLUSTER, gateSeconds: 60 });
  await expect(page.getByText("Succeeded", { exact: true }).first()).toBeVisible({ timeout: 150_000 });

  // Every node's agent reports under the new configuration, from a new pod.
  await expect
    .poll(
      async () =>
        (await demoSensors(request, headers, CLUSTER, NODES)).filter((sensor) => {
          const old = before.find((candidate) => candidate.nodeName === sensor.nodeName)!;
          return (
            sensor.configHash !== old.configHash &&
            sensor.podName !== old.podName &&
            sensor.lastSummary !== null
          );
        }).length,
      { timeout: 60_000 },
    )
    .toBe(NODES.length);

  // What each agent captures is what the preview said for its node.
  const after = await demoSensors(request, headers, CLUSTER, NODES);
  for (const node of NODES) {
    const sensor = after.find((candidate) => candidate.nodeName === node)!;
    expect(sensor.lastSummary!.interfaces.map((stats) => stats.name).sort(), node).toEqual(preview[node]);
  }
});
