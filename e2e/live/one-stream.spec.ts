import { createServer, connect, type Server, type Socket } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { idleInterface, registerCluster, sendReport } from "../sensors/agent-support.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

// A tab holds one live stream, however many live feeds its pages show: through Fleet → Cluster
// → Sensors → Sensor (client-side navigation in one tab) exactly one SSE stream is open once
// each page has settled, it is `live.stream`, and a new report is on screen within 1 s.
const CLUSTER = "e2e-one-stream";
const AGENT = { clusterId: CLUSTER, nodeName: "mux-node", podName: "tapfleet-agent-mux1" };
/** The bound for a report to be on screen. */
const SHOWN_WITHIN_MS = 1_000;

test.use({ viewport: { width: 1440, height: 900 } });

function eth0(packets: number) {
  return {
    ...idleInterface("eth0"),
    packets,
    bytes: packets * 600,
    protocols: { ...idleInterface("eth0").protocols, ipv4: packets, tcp: packets },
  };
}

interface CountedStream {
  url: string;
  openedAt: number;
  closedAt: number | null;
}

/** Counts the page's EventSources (every SSE stream the dashboard opens goes through one). */
async function countEventSources(page: Page) {
  await page.addInitScript(() => {
    const streams: { url: string; openedAt: number; closedAt: number | null }[] = [];
    (window as unknown as { __streams: typeof streams }).__streams = streams;
    const Native = window.EventSource;
    class Counted extends Native {
      readonly #entry: (typeof streams)[number];
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        const entry = {
          url: new URL(String(url), location.href).href,
          openedAt: performance.now(),
          closedAt: null as number | null,
        };
        this.#entry = entry;
        streams.push(entry);
        this.addEventListener("error", () => {
          if (this.readyState === Native.CLOSED) entry.closedAt ??= performance.now();
        });
      }
      override close() {
        this.#entry.closedAt ??= performance.now();
        super.close();
      }
    }
    window.EventSource = Counted;
  });
}

const streamsOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { __streams: CountedStream[] }).__streams);
const openStreams = async (page: Page) =>
  (await streamsOf(page))
    .filter((stream) => stream.closedAt === null)
    .map((stream) => new URL(stream.url).pathname);

/** The most streams open at one time so far. */
async function mostOpenAtOnce(page: Page): Promise<number> {
  const streams = await streamsOf(page);
  const edges = streams.flatMap((s) => [
    { at: s.openedAt, step: 1 },
    ...(s.closedAt === null ? [] : [{ at: s.closedAt, step: -1 }]),
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.step;
    most = Math.max(most, open);
  }
  return most;
}

/** Settled: one stream open, the tab's live.stream, and it stays the only one. */
async function expectOneStream(page: Page) {
  await expect.poll(() => openStreams(page), { timeout: 10_000 }).toEqual(["/trpc/live.stream"]);
}

/** What to watch on screen: an element's text (or attribute) becoming `equals`, or leaving `changedFrom`. */
interface Watch {
  selector: string;
  attribute?: string;
  equals?: string;
  changedFrom?: string;
}

/**
 * Sends a report and returns how long until its effect was on screen (checked in the page at
 * every frame), measured from just before the report was sent.
 */
async function msUntilShown(page: Page, send: () => Promise<void>, watch: Watch): Promise<number> {
  const seen = page.evaluate(
    (w) =>
      new Promise<number>((resolve) => {
        const frame = () => {
          const element = document.querySelector<HTMLElement>(w.selector);
          const value = element
            ? w.attribute
              ? element.getAttribute(w.attribute)
              : element.innerText
            : null;
          const shown =
            w.equals !== undefined ? value === w.equals : value !== null && value !== w.changedFrom;
          if (shown) resolve(Date.now());
          else requestAnimationFrame(frame);
        };
        frame();
      }),
    watch,
  );
  const sentAt = Date.now();
  await send();
  return (await seen) - sentAt;
}

test("[live]: a tab keeps one SSE stream from Fleet to a sensor, and a report is on screen within 1 s", async ({
  page,
  request,
}) => {
  const key = await registerCluster(request, CLUSTER);
  let sequence = 0;
  const report = (packets: number) =>
    sendReport(request, key, AGENT, {
      sequence: sequence++,
      reportIntervalSeconds: 10,
      interfaces: [eth0(packets)],
    });
  await report(1_000);
  await report(3_000);

  await countEventSources(page);
  await signIn(page, ADMIN);
  await page.goto("/fleet");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await expectOneStream(page);

  // Fleet: the cluster's row shows the new report's rate.
  const row = page.locator(`tr[data-cluster="${CLUSTER}"]`);
  await expect(row).toBeVisible();
  // The packets/s cell: no rate until a report arrives live.
  const packetsCell = row.locator("td").nth(4);
  const rateBefore = await packetsCell.innerText();
  const fleetMs = await msUntilShown(page, () => report(9_000), {
    selector: `tr[data-cluster="${CLUSTER}"] td:nth-child(5)`,
    changedFrom: rateBefore,
  });

  // Cluster page, by its link on the Fleet page.
  await row.getByRole("link", { name: CLUSTER }).click();
  await expect(page).toHaveURL(new RegExp(`/clusters/${CLUSTER}$`));
  // The page's own badge, not the Fleet page's on its way out.
  await expect(page.getByRole("heading", { level: 1, name: CLUSTER })).toBeVisible();
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await expectOneStream(page);

  // Sensors list, then the sensor's page.
  await page.getByRole("link", { name: "Sensors", exact: true }).first().click();
  await page.getByRole("link", { name: AGENT.podName }).click();
  await expect(page.getByRole("heading", { level: 1, name: AGENT.podName })).toBeVisible();
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await expectOneStream(page);

  // Sensor: the chart draws the new report's point.
  const packets = page.getByRole("img", { name: "Packets per second" });
  await expect(packets).toBeVisible();
  const points = Number(await packets.getAttribute("data-points"));
  const sensorMs = await msUntilShown(page, () => report(20_000), {
    selector: '[aria-label="Packets per second"]',
    attribute: "data-points",
    equals: String(points + 1),
  });

  const streams = await streamsOf(page);
  console.log(
    `live: ${streams.length} streams opened over 4 pages, at most ${await mostOpenAtOnce(page)} open at once; ` +
      `report on screen after ${fleetMs} ms (Fleet), ${sensorMs} ms (Sensor)`,
  );
  // Every stream of the tab was the multiplexed one, and a page change overlapped two at most
  // (the next opens before the previous closes, so nothing is missed in between).
  expect(streams.map((stream) => new URL(stream.url).pathname)).toEqual(
    streams.map(() => "/trpc/live.stream"),
  );
  expect(await mostOpenAtOnce(page)).toBeLessThanOrEqual(2);
  expect(fleetMs).toBeLessThan(SHOWN_WITHIN_MS);
  expect(sensorMs).toBeLessThan(SHOWN_WITHIN_MS);
});

/**
 * A TCP relay to the server whose `drop()` cuts every connection through it, as a network that
 * goes away does; new connections go through again. Cookies do not depend on the port, so a page
 * signed in on the server is signed in through the relay.
 */
async function startRelay(target: URL): Promise<{ url: string; drop(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test("[live]: after the connection drops, the tab's stream resumes the audit log from its last event — nothing lost, nothing twice, nothing read again", async ({
  page,
  request,
  baseURL,
}) => {
  const relay = await startRelay(new URL(baseURL!));
  try {
    await countEventSources(page);
    await signIn(page, ADMIN);
    await page.goto(`${relay.url}/settings/audit`);
    const table = page.getByRole("table", { name: "Audit events" });
    await expect(table).toBeVisible();
    await expect(page.getByText("Live updates connected")).toBeVisible();
    await expectOneStream(page);

    const cookie = await apiSignIn(request, ADMIN);
    const suffix = Date.now().toString(36);
    const createUser = async (name: string) => {
      const created = await request.post("/api/v1/users", {
        headers: { cookie, "content-type": "application/json" },
        data: { username: name, password: "violet-harbor-lantern-42", role: "viewer" },
      });
      expect(created.status(), await created.text()).toBe(200);
    };
    const rowOf = (name: string) =>
      table.getByRole("row", { name: /^users\.create by admin/ }).filter({ hasText: name });

    // One event while connected gives the feed a position.
    await createUser(`e2e-drop-a-${suffix}`);
    await expect(rowOf(`e2e-drop-a-${suffix}`)).toBeVisible();
    let listReads = 0;
    page.on("request", (r) => {
      if (r.url().includes("audit.list")) listReads += 1;
    });

    relay.drop();
    // Recorded while the tab is cut off.
    await createUser(`e2e-drop-b-${suffix}`);
    await createUser(`e2e-drop-c-${suffix}`);

    // EventSource reconnects by itself, sending the last message's id: both arrive, once each,
    // without the page reading the log again.
    await expect(rowOf(`e2e-drop-b-${suffix}`)).toBeVisible({ timeout: 15_000 });
    await expect(rowOf(`e2e-drop-c-${suffix}`)).toBeVisible();
    await expect(page.getByText("Live updates connected")).toBeVisible();
    for (const name of ["a", "b", "c"]) await expect(rowOf(`e2e-drop-${name}-${suffix}`)).toHaveCount(1);
    expect(listReads).toBe(0);
    await expectOneStream(page);
  } finally {
    await relay.close();
  }
});
