// npm run bench:inventory — the fleet inventory at scale: many simulated
// clusters with thousands of nodes each (fake kubelet, a sensor DaemonSet on
// every node), connected to one server over REST, measured side by side with
// a reference taken in the same run.
//
//   npm run bench:inventory                                   # 20 clusters × 5,000 nodes
//   npm run bench:inventory -- --clusters 2 --nodes 500       # a quick check
//   flags: --sim-processes N (default 4), --events N (default 30), --requests N (default 50),
//          --profile-dir DIR (the server's CPU profile),
//          --browser (also in Chromium: the cluster page's and the Nodes page's first rows from a
//          full navigation, when painted (Element Timing) and when a script sees them, split into
//          the server's part and the browser's; client-side from the Fleet page; event → rendered row;
//          needs the built dashboard: flock /tmp/tapfleet-web.lock sh -c 'npm run build &&
//          npm run bench:inventory -- --browser')
//   env: BENCH_SERVER_NODE_ARGS="--trace-gc" (Node flags for the server alone),
//        BENCH_BROWSER_DETAIL=1 (with --browser: each navigation's timeline, from the HTML's end
//        to the first row's paint: DOMContentLoaded, hydration, the first row in the DOM, first
//        contentful paint, the render-blocking files)
//
// The server runs in a process of its own (embedded PostgreSQL under it), the
// simulated clusters in --sim-processes other processes, so CPU and RSS are
// each one's own. Measured:
// - sync: from the first REST PUT of a connection until /api/v1/coverage
//   shows every node of every cluster, not stale; reference: the same objects
//   listed fresh by the same client (@tapfleet/kube's cluster watch, which the
//   server runs) from this process, before the server connects.
// - event latency: a change made in a simulated cluster (taint a node, delete
//   its sensor pod, the node turning NotReady) until the REST nodes endpoint
//   shows it (polled every POLL_MS) and until the SSE `inventory.live` stream
//   delivers it; reference: the same change reaching a bare cluster watch.
// - first page of a cluster's nodes over REST, with and without a state
//   filter; reference: GET /healthz on the same server.
// - the server's RSS and peak RSS (VmHWM) at the end.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Locator, Page } from "@playwright/test";
import { loadKubeConfig, startClusterWatch, type ClusterWatch } from "@tapfleet/kube";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { adminCookie, CLOCK_TICKS, cpuTicks, descendants, startBenchServer } from "./bench-support.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const POLL_MS = 20;
const ADMIN_PASSWORD = "bench-admin-password";
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { values: flags } = parseArgs({
  options: {
    clusters: { type: "string", default: "20" },
    nodes: { type: "string", default: "5000" },
    "sim-processes": { type: "string", default: "4" },
    events: { type: "string", default: "30" },
    requests: { type: "string", default: "50" },
    "profile-dir": { type: "string" },
    browser: { type: "boolean", default: false },
    "sim-worker": { type: "boolean", default: false },
  },
});

function positive(name: string): number {
  const value = Number(flags[name as keyof typeof flags]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name}: must be a positive integer, not ${String(flags[name as keyof typeof flags])}`);
    process.exit(2);
  }
  return value;
}

// --- the simulated clusters' process ------------------------------------------------------

type WorkerCommand =
  | { type: "start"; names: string[]; nodes: number }
  | { type: "change"; id: number; cluster: string; node: string; kind: ChangeKind }
  | { type: "stop" };
type WorkerMessage =
  | { type: "started"; clusters: { name: string; kubeconfig: string }[] }
  | { type: "changed"; id: number; at: number }
  | { type: "failed"; message: string };
type ChangeKind = "taint" | "delete-pod" | "not-ready";

/** Resolves when the sensor DaemonSet reports a pod on every node, all available. */
function rolledOut(sim: RunningSimCluster, nodes: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const ds = sim.store.get("daemonsets.apps", "tapfleet", "tapfleet-sensor");
      const s = (ds?.status ?? {}) as Record<string, number | undefined>;
      return s.desiredNumberScheduled === nodes && s.numberAvailable === nodes;
    };
    if (check()) return resolve();
    const unsubscribe = sim.store.subscribe((e) => {
      if (e.resource === "daemonsets.apps" && check()) {
        unsubscribe();
        resolve();
      }
    });
  });
}

function simWorker(): void {
  const sims = new Map<string, RunningSimCluster>();
  const send = (message: WorkerMessage) => process.send!(message);
  // The simulator's timers are unref'd; the IPC channel keeps this process alive.
  process.on("message", (command: WorkerCommand) => {
    void (async () => {
      try {
        if (command.type === "start") {
          const started: { name: string; kubeconfig: string }[] = [];
          for (const name of command.names) {
            // Events off: the inventory does not watch them, and they would only cost the simulator CPU.
            // Established nodes: every kubelet's 5-minute status post comes spread over the period from
            // the start, as in a cluster that has run for a while (17 node updates a second per 5,000
            // nodes, during the whole run), not all at once five minutes after the simulator started.
            const sim = await startSimCluster({
              name,
              nodes: command.nodes,
              kubelet: "fake",
              readyDelayMs: 0,
              recordEvents: false,
              establishedNodes: true,
            });
            sims.set(name, sim);
            sim.store.create("namespaces", {
              apiVersion: "v1",
              kind: "Namespace",
              metadata: { name: "tapfleet" },
            });
            const daemonSet = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet" });
            daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
            sim.store.create("daemonsets.apps", daemonSet);
            await rolledOut(sim, command.nodes);
            started.push({ name, kubeconfig: sim.kubeconfig() });
          }
          send({ type: "started", clusters: started });
        } else if (command.type === "change") {
          const sim = sims.get(command.cluster)!;
          let at: number;
          if (command.kind === "taint") {
            at = now();
            sim.cluster.taint(command.node, { key: "bench/excluded", value: "yes", effect: "NoSchedule" });
          } else if (command.kind === "not-ready") {
            at = now();
            sim.cluster.setNodeReady(command.node, false);
          } else {
            const pod = sim.store
              .list("pods", { namespace: "tapfleet" })
              .items.find((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === command.node);
            if (!pod) throw new Error(`no sensor pod on ${command.node}`);
            at = now();
            sim.store.delete("pods", "tapfleet", pod.metadata.name!);
          }
          send({ type: "changed", id: command.id, at });
        } else {
          await Promise.all([...sims.values()].map((s) => s.stop()));
          process.exit(0);
        }
      } catch (error) {
        send({
          type: "failed",
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
}

interface SimProcess {
  child: ChildProcess;
  request(command: WorkerCommand): Promise<WorkerMessage>;
}

function startSimProcess(): SimProcess {
  const child = fork(path.join(import.meta.dirname, "bench-inventory.ts"), ["--sim-worker"], {
    execArgv: ["--import", "tsx", "--max-old-space-size=12288"],
    cwd: root,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // One request at a time per process: the answers come in order.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    child,
    request(command) {
      const answer = queue.then(
        () =>
          new Promise<WorkerMessage>((resolve, reject) => {
            const onMessage = (message: WorkerMessage) => {
              child.off("exit", onExit);
              if (message.type === "failed") reject(new Error(`simulator process: ${message.message}`));
              else resolve(message);
            };
            const onExit = (code: number | null) => {
              child.off("message", onMessage);
              reject(new Error(`the simulator process exited (${code})`));
            };
            child.once("message", onMessage);
            child.once("exit", onExit);
            child.send(command);
          }),
      );
      queue = answer.catch(() => undefined);
      return answer;
    },
  };
}

// --- the server's process -------------------------------------------------------------------

function startServerProcess(profileDir: string | undefined, serveDashboard: boolean) {
  return startBenchServer({
    adminPassword: ADMIN_PASSWORD,
    profileDir,
    env: { TAPFLEET_SERVE_DASHBOARD: String(serveDashboard), TAPFLEET_DEMO: "off" },
    // The server's log (warnings and errors: LOG_LEVEL=warn), kept for the report.
    logFile: (port) => path.join(tmpdir(), `bench-inventory-server-${port}.log`),
  });
}

async function operatorToken(url: string): Promise<{ token: string; cookie: string }> {
  const cookie = await adminCookie(url, ADMIN_PASSWORD);
  const created = await fetch(`${url}/api/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ name: "bench", role: "operator" }),
  });
  if (!created.ok) throw new Error(`creating a token answered ${created.status}: ${await created.text()}`);
  return { token: ((await created.json()) as { secret: string }).secret, cookie };
}

// --- /proc: CPU and memory of the processes -------------------------------------------------

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

async function cpuSnapshot(serverPid: number, simPids: number[]) {
  const database = await descendants(serverPid);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    at: now(),
    server: await cpuTicks(serverPid),
    database: sum(await Promise.all(database.map((pid) => cpuTicks(pid, true)))),
    sims: sum(await Promise.all(simPids.map((pid) => cpuTicks(pid)))),
    bench: process.cpuUsage(),
  };
}

type Snapshot = Awaited<ReturnType<typeof cpuSnapshot>>;

/** Percent of one core per process group between two snapshots. */
function cpuBetween(a: Snapshot, b: Snapshot) {
  const seconds = (b.at - a.at) / 1000;
  const pct = (ticks: number) => (100 * ticks) / CLOCK_TICKS / seconds;
  const bench = process.cpuUsage(a.bench);
  return {
    server: pct(b.server - a.server),
    database: pct(b.database - a.database),
    sims: pct(b.sims - a.sims),
    bench: (100 * (bench.user + bench.system)) / 1e6 / seconds,
  };
}

// --- statistics and output ----------------------------------------------------------------

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : "—");
const seconds = (v: number) => `${(v / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(1)}×` : "—");

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = now();
  const value = await fn();
  return [now() - start, value];
}

// --- the measurements -----------------------------------------------------------------------

interface CoverageAnswer {
  clusters: {
    clusterId: string;
    nodeCount: number;
    stale: boolean;
    summary: { counts: Record<string, number>; stale: boolean };
  }[];
}
interface NodeItem {
  nodeName: string;
  state: string;
  reason: string;
  shouldRun: boolean;
  podName: string | null;
  stale: boolean;
  details: unknown;
}

/**
 * Lists every cluster fresh through @tapfleet/kube's cluster watch, all at once; resolves with the
 * time taken and this process's CPU time meanwhile (seconds).
 */
async function referenceSync(kubeconfigs: string[]): Promise<{ ms: number; cpuSeconds: number }> {
  const start = now();
  const cpuBefore = process.cpuUsage();
  const watches = kubeconfigs.map((kubeconfig, i) =>
    startClusterWatch({ kubeConfig: loadKubeConfig(kubeconfig), clusterId: `reference-${i}` }),
  );
  await Promise.all(watches.map((w) => w.whenSynced()));
  const took = now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.all(watches.map((w) => w.stop()));
  return { ms: took, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Reads the SSE stream of inventory.live and hands each message to `onMessage` with its arrival time. */
function openLiveStream(options: {
  url: string;
  token: string;
  onMessage: (message: Record<string, unknown>, at: number) => void;
}): { ready: Promise<void>; close(): void } {
  const controller = new AbortController();
  const ready = (async () => {
    const response = await fetch(`${options.url}/trpc/inventory.live`, {
      headers: { authorization: `Bearer ${options.token}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`inventory.live answered ${response.status}`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = now();
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (!line.startsWith("data: ")) continue;
          const data = JSON.parse(line.slice(6)) as Record<string, unknown> | null;
          if (data && typeof data === "object" && "type" in data) options.onMessage(data, at);
        }
      }
    })().catch(() => undefined);
  })();
  return { ready, close: () => controller.abort() };
}

/**
 * In Chromium, logged in through the session cookie: the cluster page until its
 * first node rows are rendered (beside a navigation to /healthz), then changes made
 * to rendered rows' nodes until the row shows them (a MutationObserver in the page
 * takes the time; Chromium's and Node's clocks are both the system's).
 */
async function measureBrowser(options: {
  url: string;
  cookie: string;
  clusterId: string;
  navigations: number;
  events: number;
  skip: Set<string>;
  change: (node: string, kind: ChangeKind) => Promise<number>;
  screenshot: string;
}) {
  const { chromium } = await import("@playwright/test");
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // tsx compiles this file keeping function names through an `__name` helper, which the
    // functions handed to page.evaluate then call in the page: give the page a harmless one.
    await context.addInitScript({ content: "globalThis.__name = (fn) => fn;" });
    // The main thread's long tasks (over 50 ms) from the navigation's start, to tell a slow paint
    // that waited for the page's own scripts from one that waited for a busy machine.
    await context.addInitScript({
      content:
        "globalThis.__rowAt = null; new MutationObserver((m, o) => { if (document.querySelector('[role=row][data-node]')) { globalThis.__rowAt = [performance.now(), document.readyState]; o.disconnect(); } }).observe(document, { subtree: true, childList: true }); " +
        "globalThis.__hydratedAt = null; new MutationObserver((m, o) => { if (m.some((r) => r.attributeName === 'inert' && !r.target.hasAttribute('inert'))) { globalThis.__hydratedAt = performance.now(); o.disconnect(); } }).observe(document, { subtree: true, attributes: true, attributeFilter: ['inert'] }); " +
        "globalThis.__longTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) globalThis.__longTasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });",
    });
    const [name, value] = options.cookie.split("=", 2) as [string, string];
    await context.addCookies([{ name, value, url: options.url }]);
    const page = await context.newPage();
    const rows = page.locator('[role="row"][data-node]');
    const reference: number[] = [];
    // Chromium aborts a navigation with ERR_NETWORK_CHANGED when any interface of the machine
    // changes (other work here creates network namespaces and veth pairs): that attempt is
    // not a measurement, the next one is.
    const timedNavigation = async (go: () => Promise<unknown>): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        const start = now();
        try {
          await go();
          return now() - start;
        } catch (error) {
          // Seen either as the error itself or as the navigation "interrupted" by Chromium's error page.
          const changed = /ERR_NETWORK_CHANGED|chrome-error:\/\/chromewebdata/.test(String(error));
          if (attempt >= 5 || !changed) throw error;
          networkChanged++;
        }
      }
    };
    let networkChanged = 0;
    // A full navigation to a page with the nodes table: when its first row was painted (the
    // browser's Element Timing entry for the row's name), and when a script in the page could
    // first see it (Playwright's check runs between the page's own scripts, so after hydration).
    // Where the time goes: the server's part (request sent → first byte of the HTML) and the
    // browser's (last byte of the HTML → first row painted), from the navigation's own timing.
    const tablePage = async (url: string) => {
      let start = 0;
      const seen = await timedNavigation(async () => {
        start = now();
        await page.goto(url, { waitUntil: "commit" });
        await rows.first().waitFor({ timeout: 60_000 });
      });
      const painted = await firstRowPaintedAt(page);
      const html = await page.evaluate(() => {
        const nav = window.performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return {
          server: nav.responseStart - nav.requestStart,
          end: window.performance.timeOrigin + nav.responseEnd,
          origin: window.performance.timeOrigin,
          longTasks: (globalThis as unknown as { __longTasks: [number, number][] }).__longTasks,
          // What the first paint had to wait for: the render-blocking files, when each arrived.
          blocking: (window.performance.getEntriesByType("resource") as PerformanceResourceTiming[])
            .filter((r) => (r as { renderBlockingStatus?: string }).renderBlockingStatus === "blocking")
            .map(
              (r) =>
                `${new URL(r.name).pathname.split("/").at(-1)} ${Math.round(r.startTime)}–${Math.round(r.responseEnd)}${r.transferSize === 0 ? " cached" : ""}`,
            ),
          responseEnd: nav.responseEnd,
          domInteractive: nav.domInteractive,
          domContentLoaded: nav.domContentLoadedEventEnd,
          hydratedAt: (globalThis as unknown as { __hydratedAt: number | null }).__hydratedAt,
          rowAt: (globalThis as unknown as { __rowAt: [number, string] | null }).__rowAt,
          firstContentfulPaint: window.performance
            .getEntriesByType("paint")
            .find((e) => e.name === "first-contentful-paint")?.startTime,
        };
      });
      // Long tasks that began before the paint, and how much of them ran before it.
      const paintedAt = painted - html.origin;
      const longTasksBeforePaint = html.longTasks
        .filter(([startTime]) => startTime < paintedAt)
        .reduce((sum, [startTime, duration]) => sum + Math.min(duration, paintedAt - startTime), 0);
      return {
        painted: painted - start,
        seen,
        server: html.server,
        browser: painted - html.end,
        longTasksBeforePaint,
        detail: `html ends ${Math.round(html.responseEnd)}, DOM interactive ${Math.round(html.domInteractive)}, DOMContentLoaded ${Math.round(html.domContentLoaded)}, hydrated ${html.hydratedAt === null ? "?" : Math.round(html.hydratedAt)}, first row in the DOM ${html.rowAt ? `${Math.round(html.rowAt[0])} (${html.rowAt[1]})` : "?"}, first contentful paint ${html.firstContentfulPaint === undefined ? "?" : Math.round(html.firstContentfulPaint)}, painted ${Math.round(paintedAt)}; blocking: ${html.blocking.join(", ") || "none"}`,
      };
    };
    type TablePage = Record<"painted" | "seen" | "server" | "browser" | "longTasksBeforePaint", number[]>;
    const emptyTablePage = (): TablePage => ({
      painted: [],
      seen: [],
      server: [],
      browser: [],
      longTasksBeforePaint: [],
    });
    const clusterPage = emptyTablePage();
    const nodesPage = emptyTablePage();
    const keep = (into: TablePage, one: Awaited<ReturnType<typeof tablePage>>) => {
      if (process.env.BENCH_BROWSER_DETAIL) console.log(`  ${Math.round(one.painted)} ms: ${one.detail}`);
      for (const key of ["painted", "seen", "server", "browser", "longTasksBeforePaint"] as const)
        into[key].push(one[key]);
    };
    await eventLoopDelay(options.url);
    for (let i = 0; i <= options.navigations; i++) {
      const healthz = await timedNavigation(() => page.goto(`${options.url}/healthz`));
      if (i > 0) reference.push(healthz); // the first of each warms up
      const cluster = await tablePage(`${options.url}/clusters/${options.clusterId}`);
      if (i > 0) keep(clusterPage, cluster);
    }
    // The fleet's Nodes page: the whole 100,000-row table.
    for (let i = 0; i <= options.navigations; i++) {
      await timedNavigation(() => page.goto(`${options.url}/healthz`));
      const fleet = await tablePage(`${options.url}/nodes`);
      if (i > 0) keep(nodesPage, fleet);
    }
    const delay = await eventLoopDelay(options.url);
    console.log(
      `  server event loop delay during the full navigations: p99 ${delay.p99.toFixed(0)} ms, max ${delay.max.toFixed(0)} ms`,
    );
    // Where a full navigation's time goes, from the last one's own timeline (ms from navigation start).
    const timeline = await page.evaluate(() => {
      const nav = window.performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const resources = window.performance.getEntriesByType("resource") as PerformanceResourceTiming[];
      const scripts = resources.filter((r) => r.initiatorType === "script" || r.name.endsWith(".js"));
      const round = (n: number) => Math.round(n);
      return {
        html: `${round(nav.responseStart)}–${round(nav.responseEnd)}, ${round(nav.decodedBodySize / 1024)} kB`,
        domContentLoaded: round(nav.domContentLoadedEventEnd),
        scripts: `${scripts.length} files, ${round(scripts.reduce((n, r) => n + r.encodedBodySize, 0) / 1024)} kB, last ends ${round(Math.max(0, ...scripts.map((r) => r.responseEnd)))}`,
        trpc: resources
          .filter((r) => r.name.includes("/trpc/"))
          .map(
            (r) =>
              `${decodeURIComponent(new URL(r.name).pathname.slice(6))} ${round(r.startTime)}–${round(r.responseEnd)}`,
          ),
        rowsSeenBy: round(window.performance.now()),
      };
    });
    console.log(`  Chromium timeline of the last full navigation (ms): ${JSON.stringify(timeline)}`);
    await profileNavigation({
      page,
      rows,
      url: `${options.url}/clusters/${options.clusterId}`,
      screenshot: options.screenshot,
    });
    // Client-side: from the Fleet page (loaded and settled), a click on the cluster's link until its
    // first node row is rendered; the dashboard's JS is already running, as it is for most visits.
    const clientRows: number[] = [];
    const link = page.locator(`tr[data-cluster="${options.clusterId}"] a[href^="/clusters/"]`);
    for (let i = 0; i <= options.navigations; i++) {
      await timedNavigation(() => page.goto(`${options.url}/fleet`));
      await link.waitFor({ timeout: 60_000 });
      const start = now();
      await link.click();
      await rows.first().waitFor({ timeout: 60_000 });
      if (i > 0) clientRows.push(now() - start);
    }
    if (networkChanged > 0)
      console.log(`  Chromium: ${networkChanged} navigations aborted by ERR_NETWORK_CHANGED, tried again`);
    await page.screenshot({ path: options.screenshot });
    const nodes = (await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-node") ?? "")))
      .filter((node) => node && !options.skip.has(node))
      .slice(0, options.events);
    const kinds: ChangeKind[] = ["taint", "delete-pod", "not-ready"];
    const rendered: Record<ChangeKind | "all", number[]> = {
      taint: [],
      "delete-pod": [],
      "not-ready": [],
      all: [],
    };
    let missed = 0;
    for (const [i, node] of nodes.entries()) {
      const kind = kinds[i % kinds.length]!;
      // The row's state, pod and reason; not its relative times, which tick on their own.
      // Settled at once, so that a failure while the change is being made is not unhandled.
      const seen: Promise<number | Error> = page
        .evaluate(
          (nodeName) =>
            new Promise<number>((resolve, reject) => {
              const signature = () => {
                const row = document.querySelector(`[role="row"][data-node="${nodeName}"]`);
                const cells = row?.querySelectorAll('[role="cell"]');
                return `${row?.getAttribute("data-state")}|${cells?.[0]?.textContent}|${cells?.[2]?.textContent}`;
              };
              const before = signature();
              const observer = new MutationObserver(() => {
                if (signature() === before) return;
                observer.disconnect();
                resolve(performance.timeOrigin + performance.now());
              });
              observer.observe(document.body, {
                subtree: true,
                childList: true,
                characterData: true,
                attributes: true,
              });
              setTimeout(() => reject(new Error(`row ${nodeName} did not change in 20 s`)), 20_000);
            }),
          node,
        )
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      const at = await options.change(node, kind);
      const renderedAt = await seen;
      if (renderedAt instanceof Error) {
        if (!renderedAt.message.includes("did not change in 20 s")) throw renderedAt;
        missed++;
      } else {
        rendered[kind].push(renderedAt - at);
        rendered.all.push(renderedAt - at);
      }
      await sleep(300);
    }
    return { reference, clusterPage, nodesPage, clientRows, rendered, missed, events: nodes.length };
  } finally {
    await browser.close();
  }
}

/**
 * The server's event loop delay since the last call (the histogram behind /metrics restarts at
 * each scrape): how long a request, a render or a live event could wait for other work.
 */
async function eventLoopDelay(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^tapfleet_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text)?.[1]) * 1000;
  return { p99: gauge("p99"), max: gauge("max") };
}

/**
 * When the page painted its first node row, on the system clock: the earliest Element Timing entry
 * named `first-node-row` (the nodes table marks the first row's node name so). Matched by that
 * name, not by the element: a row the page replaced later (the live stream's first re-read brings
 * another first row) leaves an entry whose element is gone, and it was painted all the same.
 * Fails when the browser made none within 10 s of the row being there.
 */
async function firstRowPaintedAt(page: Page): Promise<number> {
  const at = await page.evaluate(
    (identifier) =>
      new Promise<number | null>((resolve) => {
        interface ElementTiming extends PerformanceEntry {
          renderTime: number;
          identifier: string;
        }
        const observer = new PerformanceObserver((list) => {
          const times = (list.getEntries() as ElementTiming[])
            .filter((e) => e.identifier === identifier)
            .map((e) => e.renderTime || e.startTime);
          if (times.length === 0) return;
          observer.disconnect();
          resolve(window.performance.timeOrigin + Math.min(...times));
        });
        observer.observe({ type: "element", buffered: true });
        setTimeout(() => {
          observer.disconnect();
          resolve(null);
        }, 10_000);
      }),
    // The name the dashboard's nodes table gives it (FIRST_ROW_TIMING in apps/web's nodes-table.tsx;
    // an app is not imported).
    "first-node-row",
  );
  if (at === null) throw new Error(`${page.url()}: no Element Timing entry for the first node row`);
  return at;
}

/**
 * One more full navigation of the cluster page under Chromium's CPU profiler, until its first
 * node row: the main thread's time by function (self time, the top ones), with the idle time,
 * the garbage collector and "(program)" (the browser's own work: parsing, style, layout) apart.
 * The whole profile is written for Chrome's DevTools (Performance panel, "Load profile").
 */
async function profileNavigation(options: {
  page: Page;
  rows: Locator;
  url: string;
  screenshot: string;
}): Promise<void> {
  const { page, rows, url } = options;
  const cdp = await page.context().newCDPSession(page);
  await page.goto(url.replace(/\/clusters\/.*$/, "/healthz"));
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
  await cdp.send("Profiler.start");
  const start = now();
  await page.goto(url, { waitUntil: "commit" });
  await rows.first().waitFor({ timeout: 60_000 });
  const took = now() - start;
  const { profile } = await cdp.send("Profiler.stop");
  await cdp.detach();
  const file = options.screenshot.replace(/\.png$/, ".cpuprofile");
  await writeFile(file, JSON.stringify(profile));
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const deltas = profile.timeDeltas ?? [];
  for (const [i, id] of (profile.samples ?? []).entries()) {
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url
      ? ` ${frame.url.slice(frame.url.lastIndexOf("/") + 1)}:${frame.lineNumber + 1}`
      : "";
    const key = `${frame.functionName || "(anonymous)"}${where}`;
    self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log(
    `  Chromium CPU profile of one more full navigation (${Math.round(took)} ms to the first row, ` +
      `${Math.round(total)} ms sampled; ${file}), self time:\n` +
      top.map(([key, ms]) => `    ${Math.round(ms).toString().padStart(5)} ms  ${key}`).join("\n"),
  );
}

async function main(): Promise<void> {
  const clusterCount = positive("clusters");
  const nodes = positive("nodes");
  const simProcesses = Math.min(positive("sim-processes"), clusterCount);
  const eventCount = positive("events");
  const requests = positive("requests");
  const loadAtStart = loadavg();
  const started = now();
  const names = Array.from({ length: clusterCount }, (_, i) => `bench-${i + 1}`);

  console.log(
    `inventory bench: ${clusterCount} clusters × ${nodes} nodes in ${simProcesses} simulator processes, ` +
      `${cpus().length} cores, load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const sims = Array.from({ length: simProcesses }, () => startSimProcess());
  const owner = new Map<string, SimProcess>();
  const kubeconfigs = new Map<string, string>();
  const stopSims = () =>
    Promise.all(
      sims.map(async (sim) => {
        if (sim.child.exitCode !== null) return;
        sim.child.send({ type: "stop" } satisfies WorkerCommand);
        await once(sim.child, "exit");
      }),
    );
  // A server that does not start (an unbuilt dashboard, say) must not leave the simulators running.
  const server = await startServerProcess(flags["profile-dir"], flags.browser).catch(
    async (error: unknown) => {
      await stopSims();
      throw error;
    },
  );
  try {
    // 1. The simulated clusters, each with its sensor DaemonSet rolled out on every node.
    const [simStartMs] = await timed(() =>
      Promise.all(
        sims.map(async (sim, p) => {
          const mine = names.filter((_, i) => i % simProcesses === p);
          const answer = await sim.request({ type: "start", names: mine, nodes });
          if (answer.type !== "started") throw new Error("unexpected answer from a simulator process");
          for (const c of answer.clusters) {
            owner.set(c.name, sim);
            kubeconfigs.set(c.name, c.kubeconfig);
          }
        }),
      ),
    );
    console.log(
      `simulated clusters ready (${clusterCount * nodes} sensor pods Running) in ${seconds(simStartMs)}`,
    );
    const simPids = sims.map((s) => s.child.pid!);

    // 2. Reference: the same objects listed fresh by the same client, from this process.
    const reference = await referenceSync(names.map((n) => kubeconfigs.get(n)!));
    const referenceMs = reference.ms;
    console.log(
      `reference list of all clusters: ${seconds(referenceMs)} (CPU ${reference.cpuSeconds.toFixed(1)} s)`,
    );

    // 3. Connect every cluster over REST; wait until the inventory is complete and fresh.
    const { token, cookie } = await operatorToken(server.url);
    const rest = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${server.url}/api/v1${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
      return JSON.parse(text) as unknown;
    };
    for (const name of names) await rest("POST", "/clusters", { id: name });
    const beforeSync = await cpuSnapshot(server.pid, simPids);
    await eventLoopDelay(server.url);
    const syncStart = now();
    await Promise.all(
      names.map((name) =>
        rest("PUT", `/clusters/${name}/connection`, { kubeconfig: kubeconfigs.get(name), context: name }),
      ),
    );
    const connectedMs = now() - syncStart;
    const completeAt = new Map<string, number>();
    let coveragePolls = 0;
    let counts: Record<string, number> = {};
    const syncDeadline = syncStart + 15 * 60_000;
    while (completeAt.size < clusterCount) {
      if (now() > syncDeadline) throw new Error(`the inventory was not complete after 15 minutes`);
      const answer = (await rest("GET", "/coverage")) as CoverageAnswer;
      coveragePolls++;
      for (const c of answer.clusters) {
        const rows = Object.values(c.summary.counts).reduce((a, b) => a + b, 0);
        if (
          !completeAt.has(c.clusterId) &&
          !c.stale &&
          !c.summary.stale &&
          c.nodeCount === nodes &&
          rows === nodes
        )
          completeAt.set(c.clusterId, now() - syncStart);
        if (c.clusterId === names[0]) counts = c.summary.counts;
      }
      if (completeAt.size < clusterCount) await sleep(250);
      if (coveragePolls % 120 === 0)
        console.log(
          `  ${seconds(now() - syncStart)}: ${completeAt.size} of ${clusterCount} clusters complete; ` +
            `waiting for ${names.filter((n) => !completeAt.has(n)).join(", ")} (server log: ${server.logFile})`,
        );
    }
    const syncMs = Math.max(...completeAt.values());
    const afterSync = await cpuSnapshot(server.pid, simPids);
    const syncCpu = cpuBetween(beforeSync, afterSync);
    const syncServerCpuSeconds = (afterSync.server - beforeSync.server) / CLOCK_TICKS;
    const syncDelay = await eventLoopDelay(server.url);
    console.log(
      `inventory complete in ${seconds(syncMs)} (${coveragePolls} coverage polls); ` +
        `server event loop delay meanwhile: p99 ${syncDelay.p99.toFixed(0)} ms, max ${syncDelay.max.toFixed(0)} ms`,
    );

    // 4. Event latency: one change at a time, seen by a bare watch, the REST API and the SSE stream.
    const eventClusters = names.slice(0, Math.min(4, clusterCount));
    const referenceWatches = new Map<string, ClusterWatch>(
      eventClusters.map((name) => [
        name,
        startClusterWatch({ kubeConfig: loadKubeConfig(kubeconfigs.get(name)!), clusterId: name }),
      ]),
    );
    await Promise.all([...referenceWatches.values()].map((w) => w.whenSynced()));
    let pending: { key: string; watchAt?: number; sseAt?: number; resync?: boolean } | undefined;
    const unsubscribes = [...referenceWatches].map(([name, watch]) =>
      watch.subscribe((event) => {
        if (!pending || pending.watchAt !== undefined) return;
        if (!("resource" in event) || !("object" in event)) return;
        if (event.resource === "daemonSet") return;
        const node = event.resource === "node" ? event.object.name : event.object.nodeName;
        if (`${name}/${node}` === pending.key) pending.watchAt = now();
      }),
    );
    const live = openLiveStream({
      url: server.url,
      token,
      onMessage: (message, at) => {
        if (!pending || pending.sseAt !== undefined) return;
        const node = message.node as { clusterId: string; nodeName: string } | undefined;
        if (message.type === "node" && `${node!.clusterId}/${node!.nodeName}` === pending.key)
          pending.sseAt = at;
        else if (message.type === "resync" && pending.key.startsWith(`${String(message.clusterId)}/`)) {
          pending.sseAt = at;
          pending.resync = true;
        }
      },
    });
    await live.ready;
    const kinds: ChangeKind[] = ["taint", "delete-pod", "not-ready"];
    const latencies: Record<"watch" | "rest" | "sse", Record<ChangeKind | "all", number[]>> = {
      watch: { taint: [], "delete-pod": [], "not-ready": [], all: [] },
      rest: { taint: [], "delete-pod": [], "not-ready": [], all: [] },
      sse: { taint: [], "delete-pod": [], "not-ready": [], all: [] },
    };
    let missed = 0;
    let resyncs = 0;
    const restPolls: number[] = [];
    const snapshotRow = async (cluster: string, node: string) => {
      const start = now();
      const page = (await rest("GET", `/clusters/${cluster}/nodes?search=${node}&limit=20`)) as {
        items: NodeItem[];
      };
      restPolls.push(now() - start);
      const item = page.items.find((i) => i.nodeName === node);
      return JSON.stringify(item && [item.state, item.reason, item.shouldRun, item.podName, item.details]);
    };
    const changed = new Set<string>();
    const eventsStart = await cpuSnapshot(server.pid, simPids);
    await eventLoopDelay(server.url);
    for (let i = 0; i < eventCount; i++) {
      const kind = kinds[i % kinds.length]!;
      const cluster = eventClusters[i % eventClusters.length]!;
      const node = `node-${1 + ((i * 7919) % nodes)}`;
      const before = await snapshotRow(cluster, node);
      pending = { key: `${cluster}/${node}` };
      changed.add(`${cluster}/${node}`);
      const answer = await owner.get(cluster)!.request({ type: "change", id: i, cluster, node, kind });
      if (answer.type !== "changed") throw new Error("unexpected answer from a simulator process");
      const at = answer.at;
      let restAt: number | undefined;
      const deadline = now() + 20_000;
      while (now() < deadline) {
        const polledAt = now();
        if ((await snapshotRow(cluster, node)) !== before) {
          // The change was visible at the latest when the request that showed it was sent.
          restAt = polledAt;
          break;
        }
        await sleep(POLL_MS);
      }
      while (pending.sseAt === undefined && now() < deadline) await sleep(5);
      if (restAt === undefined || pending.sseAt === undefined || pending.watchAt === undefined) {
        missed++;
        const lost = [
          pending.watchAt === undefined ? "the bare watch" : "",
          restAt === undefined ? "REST" : "",
          pending.sseAt === undefined ? "SSE" : "",
        ].filter(Boolean);
        console.log(
          `  event ${i} (${kind} ${cluster}/${node}, ${seconds(at - started)} into the run): not seen by ${lost.join(", ")} within 20 s`,
        );
      }
      if (pending.resync) resyncs++;
      for (const [which, value] of [
        ["watch", pending.watchAt],
        ["rest", restAt],
        ["sse", pending.sseAt],
      ] as const) {
        if (value === undefined) continue;
        latencies[which][kind].push(value - at);
        latencies[which].all.push(value - at);
      }
      pending = undefined;
      await sleep(300);
    }
    const eventsCpu = cpuBetween(eventsStart, await cpuSnapshot(server.pid, simPids));
    const eventsDelay = await eventLoopDelay(server.url);
    console.log(
      `  server event loop delay during the event phase: p99 ${eventsDelay.p99.toFixed(0)} ms, max ${eventsDelay.max.toFixed(0)} ms`,
    );
    live.close();
    for (const unsubscribe of unsubscribes) unsubscribe();
    await Promise.all([...referenceWatches.values()].map((w) => w.stop()));

    // 5. First page of a cluster's nodes, with and without a state filter, beside /healthz.
    const measure = async (route: string) => {
      const times: number[] = [];
      for (let i = 0; i < requests + 5; i++) {
        const start = now();
        const response = await fetch(`${server.url}${route}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`GET ${route} answered ${response.status}`);
        if (i >= 5) times.push(now() - start); // five warm-up requests
      }
      return times;
    };
    const commonState = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]?.[0] ?? "covered";
    const healthz = await measure("/healthz");
    const firstPage = await measure(`/api/v1/clusters/${names[0]}/nodes?limit=100`);
    const filtered = await measure(`/api/v1/clusters/${names[0]}/nodes?limit=100&state=${commonState}`);
    const rareFiltered = await measure(`/api/v1/clusters/${names[0]}/nodes?limit=100&state=node-not-ready`);
    const searched = await measure(`/api/v1/clusters/${names[0]}/nodes?limit=100&search=node-42`);

    // 5b. The same in Chromium, when asked for.
    const browser = flags.browser
      ? await measureBrowser({
          url: server.url,
          cookie,
          clusterId: names[0]!,
          navigations: 10,
          events: 9,
          skip: new Set(
            [...changed].filter((k) => k.startsWith(`${names[0]}/`)).map((k) => k.split("/")[1]!),
          ),
          screenshot: path.join(tmpdir(), "bench-inventory-cluster-page.png"),
          change: async (node, kind) => {
            const answer = await owner
              .get(names[0]!)!
              .request({ type: "change", id: -1, cluster: names[0]!, node, kind });
            if (answer.type !== "changed") throw new Error("unexpected answer from a simulator process");
            return answer.at;
          },
        })
      : undefined;

    // 6. Memory.
    const serverMemory = await memory(server.pid);
    const databasePids = await descendants(server.pid);
    const postmaster = databasePids.length > 0 ? await memory(databasePids[0]!) : { rss: 0, hwm: 0 };
    const simMemory = await Promise.all(simPids.map((pid) => memory(pid)));

    // --- the table ---
    const rows: [string, string, string, string][] = [];
    const pctl = (values: number[]) => `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;
    rows.push([
      `sync: ${clusterCount} × ${nodes} nodes from the first PUT to every row fresh`,
      `${seconds(syncMs)} (first cluster ${seconds(Math.min(...completeAt.values()))}; PUTs ${seconds(connectedMs)})`,
      `fresh list of the same objects, same client: ${seconds(referenceMs)}`,
      ratio(syncMs, referenceMs),
    ]);
    rows.push([
      "sync: the server's CPU time (list, judge, write)",
      `${syncServerCpuSeconds.toFixed(1)} s`,
      `the reference's CPU time (list only): ${reference.cpuSeconds.toFixed(1)} s`,
      ratio(syncServerCpuSeconds, reference.cpuSeconds),
    ]);
    for (const kind of [...kinds, "all"] as const) {
      const watch = latencies.watch[kind];
      rows.push([
        `event → REST nodes endpoint, ${kind} (p50 / p99, n=${latencies.rest[kind].length})`,
        pctl(latencies.rest[kind]),
        `event → bare cluster watch: ${pctl(watch)}`,
        ratio(percentile(latencies.rest[kind], 50), percentile(watch, 50)),
      ]);
      rows.push([
        `event → SSE inventory.live, ${kind} (p50 / p99, n=${latencies.sse[kind].length})`,
        pctl(latencies.sse[kind]),
        `event → bare cluster watch: ${pctl(watch)}`,
        ratio(percentile(latencies.sse[kind], 50), percentile(watch, 50)),
      ]);
    }
    const page = (label: string, values: number[]) =>
      rows.push([
        `${label} (p50 / p99 of ${requests})`,
        pctl(values),
        `GET /healthz: ${pctl(healthz)}`,
        ratio(percentile(values, 50), percentile(healthz, 50)),
      ]);
    page(`first page, GET /clusters/{id}/nodes?limit=100`, firstPage);
    page(`first page, state=${commonState}`, filtered);
    page(`first page, state=node-not-ready (few rows)`, rareFiltered);
    page(`first page, search=node-42`, searched);
    if (browser) {
      for (const [label, measured] of [
        ["cluster page (5,000 rows)", browser.clusterPage],
        ["Nodes page (100,000 rows)", browser.nodesPage],
      ] as const) {
        rows.push([
          `Chromium: ${label} to its first node rows painted (p50 / p99 of ${measured.painted.length})`,
          pctl(measured.painted),
          `Chromium: navigation to /healthz: ${pctl(browser.reference)}`,
          ratio(percentile(measured.painted, 50), percentile(browser.reference, 50)),
        ]);
        rows.push([
          `  of which the server, request → first byte of the HTML (p50 / p99)`,
          pctl(measured.server),
          "",
          "",
        ]);
        rows.push([
          `  of which the browser, last byte of the HTML → row painted (p50 / p99)`,
          pctl(measured.browser),
          "",
          "",
        ]);
        // Every navigation, in order: a slow one's parts side by side.
        console.log(
          `  Chromium, ${label}, each navigation (painted = server + transfer + browser; long tasks before the paint), ms: ` +
            measured.painted
              .map(
                (painted, i) =>
                  `${Math.round(painted)} (${Math.round(measured.server[i]!)} + … + ${Math.round(measured.browser[i]!)}; ${Math.round(measured.longTasksBeforePaint[i]!)})`,
              )
              .join(", "),
        );
        rows.push([
          `Chromium: ${label}, the rows seen by a script (after hydration; p50 / p99 of ${measured.seen.length})`,
          pctl(measured.seen),
          `Chromium: navigation to /healthz: ${pctl(browser.reference)}`,
          ratio(percentile(measured.seen, 50), percentile(browser.reference, 50)),
        ]);
      }
      rows.push([
        `Chromium: Fleet page → click → cluster's first node rows (client-side; p50 / p99 of ${browser.clientRows.length})`,
        pctl(browser.clientRows),
        `Chromium: navigation to /healthz: ${pctl(browser.reference)}`,
        ratio(percentile(browser.clientRows, 50), percentile(browser.reference, 50)),
      ]);
      for (const kind of [...kinds, "all"] as const)
        rows.push([
          `Chromium: event → row re-rendered, ${kind} (p50 / p99, n=${browser.rendered[kind].length})`,
          pctl(browser.rendered[kind]),
          `event → bare cluster watch: ${pctl(latencies.watch[kind])}`,
          ratio(percentile(browser.rendered[kind], 50), percentile(latencies.watch[kind], 50)),
        ]);
    }
    rows.push([
      "server RSS at the end / peak (VmHWM)",
      `${mb(serverMemory.rss)} / ${mb(serverMemory.hwm)}`,
      "",
      "",
    ]);
    rows.push([
      "PostgreSQL postmaster RSS / peak (backends share its memory)",
      `${mb(postmaster.rss)} / ${mb(postmaster.hwm)}`,
      "",
      "",
    ]);
    rows.push([
      "simulator processes RSS (sum) / peak",
      `${mb(simMemory.reduce((a, m) => a + m.rss, 0))} / ${mb(simMemory.reduce((a, m) => a + m.hwm, 0))}`,
      "",
      "",
    ]);
    const cpuLine = (c: ReturnType<typeof cpuBetween>) =>
      `server ${c.server.toFixed(0)} %, PostgreSQL ${c.database.toFixed(0)} %, simulators ${c.sims.toFixed(0)} %, bench ${c.bench.toFixed(0)} %`;
    rows.push(["CPU during sync (% of one core)", cpuLine(syncCpu), "", ""]);
    rows.push(["CPU during the event phase", cpuLine(eventsCpu), "", ""]);

    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length), 6));
    const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
    console.log(
      `\ninventory bench: ${clusterCount} clusters × ${nodes} nodes, dashboard ${flags.browser ? "served" : "not served"}, ${cpus().length} cores, Node ${process.version}, ` +
        `load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} at start, ` +
        `${loadavg()
          .map((l) => l.toFixed(2))
          .join(
            " ",
          )} at end; whole run ${seconds(now() - started)} (simulators ready in ${seconds(simStartMs)})\n`,
    );
    console.log(line(["measure", "result", "reference (same run)", "ratio"]));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const r of rows) console.log(line(r));
    console.log(
      `\nREST polled every ${POLL_MS} ms (a poll took ${ms(percentile(restPolls, 50))} p50, ${ms(percentile(restPolls, 99))} p99): ` +
        `REST latency is the send time of the first request that showed the change. ` +
        `${missed} of ${eventCount} events not seen everywhere within 20 s; ${resyncs} arrived over SSE as a resync.` +
        (browser
          ? ` Chromium: ${browser.missed} of ${browser.events} changes not rendered within 20 s; screenshot ${path.join(tmpdir(), "bench-inventory-cluster-page.png")}.`
          : ""),
    );
    const targets: [string, boolean][] = [
      ["sync < 30 s", syncMs < 30_000],
      ["event → API p99 < 1 s", percentile(latencies.rest.all, 99) < 1000],
      ["event → SSE p99 < 1 s", percentile(latencies.sse.all, 99) < 1000],
      ["first page p99 < 300 ms", percentile(firstPage, 99) < 300 && percentile(filtered, 99) < 300],
      ["server RSS < 1.5 GB (1,431 MiB)", serverMemory.hwm < 1.5e9],
      ...(browser
        ? ([
            [
              "rendered first page p99 < 300 ms (painted; cluster and Nodes pages)",
              percentile(browser.clusterPage.painted, 99) < 300 &&
                percentile(browser.nodesPage.painted, 99) < 300,
            ],
            [
              "event → rendered row p99 < 1 s",
              percentile(browser.rendered.all, 99) < 1000 && browser.missed === 0,
            ],
          ] as [string, boolean][])
        : []),
    ];
    const warnings = (await readFile(server.logFile, "utf8")).split("\n").filter(Boolean);
    console.log(`server log: ${warnings.length} warnings or errors (${server.logFile})`);
    console.log(`targets: ${targets.map(([t, ok]) => `${t} ${ok ? "met" : "NOT met"}`).join("; ")}`);
  } finally {
    await server.stop();
    await stopSims();
  }
}

if (flags["sim-worker"]) simWorker();
else
  await main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
