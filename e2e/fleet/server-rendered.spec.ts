import { expect, test, type Page, type Response } from "@playwright/test";
import type { RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { connectSimCluster } from "../support/sim-cluster.ts";
import { baseURL } from "../../playwright.config.ts";

// The cluster page and the Nodes page are rendered on the server with the session, the cluster
// and the first page of nodes already read: the HTML carries the first rows, and the browser
// takes over without asking for that page again (until its live stream starts and re-reads
// what the stream cannot replay).
const CLUSTER = "e2e-server-rendered";
// kube-sim names its nodes node-1, node-2, …
const NODES = ["node-1", "node-2", "node-3"];
let sim: RunningSimCluster;
let cookie: string;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ request }) => {
  ({ sim, cookie } = await connectSimCluster(request, {
    id: CLUSTER,
    name: "sim-server-rendered",
    nodes: NODES.length,
  }));
  await expect
    .poll(async () => {
      const nodes = await request.get(`/api/v1/clusters/${CLUSTER}/nodes`, { headers: { cookie } });
      return ((await nodes.json()) as { items: unknown[] }).items.length;
    })
    .toBe(NODES.length);
});
test.afterAll(async () => {
  await sim?.stop();
});

/** A plain fetch, outside any browser or request context that could hold a cookie of its own. */
function fetchPage(path: string, session: string | undefined) {
  return fetch(new URL(path, baseURL), {
    headers: session ? { cookie: session } : {},
    redirect: "manual",
  });
}

const rowPattern = (node: string) =>
  new RegExp(`role="row"[^>]*data-node="${node}" data-cluster="${CLUSTER}"`);

for (const path of [`/clusters/${CLUSTER}`, `/nodes?cluster=${CLUSTER}`]) {
  test(`[fleet]: ${path.split("?")[0]} arrives with its first node rows in the HTML`, async () => {
    const response = await fetchPage(path, cookie);
    expect(response.status).toBe(200);
    const html = await response.text();
    for (const node of NODES) expect(html).toMatch(rowPattern(node));
    // The shell too: the session was read on the server, not left to the browser.
    expect(html).toContain('data-testid="current-user"');
    expect(html).not.toContain("Checking your session");
  });
}

test("[fleet]: without a session the server answers with the sign-in page's address", async () => {
  for (const [path, next] of [
    [`/clusters/${CLUSTER}`, `/clusters/${CLUSTER}`],
    [`/nodes?cluster=${CLUSTER}&state=starting`, `/nodes?cluster=${CLUSTER}&state=starting`],
  ] as const) {
    for (const session of [undefined, "tapfleet_session=not-a-session"]) {
      const response = await fetchPage(path, session);
      expect(response.status, path).toBe(307);
      const location = new URL(response.headers.get("location") ?? "", baseURL);
      expect(location.pathname).toBe("/login");
      expect(location.searchParams.get("next")).toBe(next);
      expect(await response.text()).not.toContain(`data-node="node-1"`);
    }
  }
});

/** The page's tRPC calls in order: procedure names, and whether the live stream had opened by then. */
function recordCalls(page: Page) {
  const calls: { procedures: string[]; afterStream: boolean }[] = [];
  const hydrationErrors: string[] = [];
  let streamOpened = false;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/trpc/")) return;
    const procedures = decodeURIComponent(url.pathname.slice("/trpc/".length)).split(",");
    calls.push({ procedures, afterStream: streamOpened });
    if (procedures.includes("live.stream")) streamOpened = true;
  });
  page.on("console", (message) => {
    // React's production build names a hydration mismatch by its error number (418, 423, 425).
    if (message.type() === "error" && /hydrat|#41[89]|#42[35]/i.test(message.text()))
      hydrationErrors.push(message.text());
  });
  return { calls, hydrationErrors };
}

/**
 * What moved up or down of the nodes table (its filters and rows) since the page was first
 * painted, from the browser's Layout Instability API. A shift sideways (a badge whose text
 * changes) is not counted, nor one elsewhere on the page: the fleet's coverage above the Nodes
 * page's table changes live with other clusters, and may reflow a card.
 */
async function recordVerticalShifts(page: Page) {
  await page.addInitScript(() => {
    const moves: string[] = [];
    (window as unknown as { __verticalShifts: string[] }).__verticalShifts = moves;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as {
        startTime: number;
        sources: { node?: Node; previousRect: DOMRectReadOnly; currentRect: DOMRectReadOnly }[];
      }[])
        for (const source of entry.sources) {
          const table = document
            .querySelector('[role="table"][aria-label="Nodes"]')
            ?.closest(".mantine-Paper-root");
          const node = source.node;
          const ofTable = Boolean(
            table && node && (table === node || table.contains(node) || node.contains(table)),
          );
          if (ofTable && source.previousRect.y !== source.currentRect.y)
            moves.push(
              `${Math.round(entry.startTime)} ms: ${(source.node?.textContent ?? "").slice(0, 60)} ` +
                `${source.previousRect.y} → ${source.currentRect.y}`,
            );
        }
    }).observe({ type: "layout-shift", buffered: true });
  });
  return () => page.evaluate(() => (window as unknown as { __verticalShifts: string[] }).__verticalShifts);
}

for (const path of [`/clusters/${CLUSTER}`, `/nodes?cluster=${CLUSTER}`]) {
  test(`[fleet]: ${path.split("?")[0]} hydrates with the server's rows, does not ask for them again, and its table does not move`, async ({
    page,
  }) => {
    await signIn(page, ADMIN);
    // Away from the page signing in lands on, so none of its requests is counted.
    await page.goto("about:blank");
    const { calls, hydrationErrors } = recordCalls(page);
    const verticalShifts = await recordVerticalShifts(page);
    // What the live stream's start reads again (it cannot replay), the last of what can change the page.
    const coverageReread = page.waitForResponse((response) =>
      new URL(response.url()).pathname.includes("inventory.coverage"),
    );
    await page.goto(path, { waitUntil: "commit" });
    const rows = page.locator('[role="row"][data-node]');
    await expect(rows).toHaveCount(NODES.length);
    // The page is live once its stream runs: the badge says so.
    await expect(page.getByText("Live updates connected")).toBeVisible();
    await expect(rows).toHaveCount(NODES.length);
    await coverageReread;
    if (path.startsWith("/clusters/"))
      // Read after the page loads (it asks the cluster), in a place kept for it.
      await expect(page.getByRole("button", { name: "Adopt tapfleet/tapfleet-sensor" })).toBeVisible();
    // A section that filled in after the first paint pushed the nodes table's filters down, under
    // a click already on its way: their menu opened out of sight.
    expect(await verticalShifts()).toEqual([]);
    const before = calls.filter((call) => !call.afterStream).flatMap((call) => call.procedures);
    // Neither the session nor what the server read: the browser had them with the HTML.
    for (const procedure of ["auth.me", "inventory.fleetNodes", "clusters.get", "clusters.list"])
      expect(before, JSON.stringify(calls)).not.toContain(procedure);
    // After the stream opened, at most the one re-read of what it cannot replay.
    const after = calls.filter((call) => call.afterStream).flatMap((call) => call.procedures);
    expect(after.filter((p) => p === "inventory.fleetNodes").length).toBeLessThanOrEqual(1);
    expect(hydrationErrors).toEqual([]);
    await page.screenshot({
      path: test.info().outputPath(`${path.split("?")[0]!.slice(1).replace(/\//g, "-")}.png`),
    });
  });
}

/** The JavaScript a full load of `path` runs, each file's text by its address. */
async function scriptsOf(page: Page, path: string): Promise<Map<string, string>> {
  const scripts = new Map<string, Promise<string>>();
  const record = (response: Response) => {
    if (response.request().resourceType() === "script") scripts.set(response.url(), response.text());
  };
  page.on("response", record);
  await page.goto(path);
  await page.waitForLoadState("load");
  page.off("response", record);
  return new Map(await Promise.all([...scripts].map(async ([url, text]) => [url, await text] as const)));
}

test("[fleet]: the cluster and Nodes pages load no password-strength dictionaries; the account page does", async ({
  page,
}) => {
  // Routing turns Playwright's HTTP cache off: every load fetches, and so shows, all its scripts.
  await page.route("**/*", (route) => route.continue());
  await signIn(page, ADMIN);
  const withZxcvbn = (scripts: Map<string, string>) =>
    [...scripts].filter(([, text]) => text.includes("zxcvbn")).map(([url]) => url);
  for (const path of [`/clusters/${CLUSTER}`, `/nodes?cluster=${CLUSTER}`, "/fleet"]) {
    const scripts = await scriptsOf(page, path);
    expect(scripts.size, path).toBeGreaterThan(0);
    expect(withZxcvbn(scripts), path).toEqual([]);
  }
  // The account page checks passwords as they are typed: its scripts carry the dictionaries, so
  // the check above would see them if a page it covers loaded them.
  expect(withZxcvbn(await scriptsOf(page, "/account")).length).toBeGreaterThan(0);
});
