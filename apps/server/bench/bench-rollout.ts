// npm run bench:rollout — a rollout of one profile revision to many simulated
// clusters at once, measured against a reference taken in the same run.
//
//   npm run bench:rollout                                # 50 clusters × 100 nodes
//   npm run bench:rollout -- --clusters 3 --nodes 10     # a quick check
//   flags: --min-ready N (seconds; default 1, see below); --log FILE (the server's
//   log, at info level, written to FILE: its controllers' failures, watch states)
//
// The server runs in a process of its own (embedded PostgreSQL under it); the
// simulated clusters (fake kubelet) in this process, so the moment each
// DaemonSet's template changes is seen as a store event, not polled. Each
// cluster gets the sensor installed by Tapfleet over REST; its DaemonSet's
// minReadySeconds is then set to --min-ready (the rendered default is 10 s),
// so "complete" measures Tapfleet and the simulator rather than the wait.
// Measured:
// - reference: this process writes every DaemonSet's template itself (one PUT
//   each, all at once, maxUnavailable 100%) — time until every template is
//   changed, and until every DaemonSet has rolled out (all pods updated and
//   available);
// - Tapfleet: POST /api/v1/rollouts of a revision to every cluster in one
//   wave (maxUnavailable 100%) — time from "apply" until every DaemonSet is
//   patched, and until GET /api/v1/rollouts/{id} says succeeded (every
//   cluster's gate passed);
// - the reads of the clusters' APIs during Tapfleet's rollout (kube-sim's
//   request logs): GETs of the sensor DaemonSet and lists of its pods, not
//   counting watches (the leader follows clusters under way through them),
//   and when the server's writes of the DaemonSets arrived (first, median, last);
// - where "apply → all patched" went: when the POST was answered, when the
//   runner's read of each DaemonSet arrived (its cluster's step started), how
//   long each cluster took from that read to its write, and the server's
//   event-loop delay (p99 and max, from its /metrics) while patching and while
//   gating;
// - the server's RSS and peak RSS (VmHWM) at the end.
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { kubeRequest, loadKubeConfig, objectPath } from "@tapfleet/kube";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import pLimit from "p-limit";
import { adminCookie, startBenchServer } from "./bench-support.ts";

const ADMIN_PASSWORD = "bench-admin-password";
const NAMESPACE = "tapfleet-sensor";
const NAME = "tapfleet-sensor";
const now = (): number => performance.timeOrigin + performance.now();

const { values: flags } = parseArgs({
  options: {
    clusters: { type: "string", default: "50" },
    nodes: { type: "string", default: "100" },
    "min-ready": { type: "string", default: "1" },
    log: { type: "string" },
  },
});
const clusterCount = Number(flags.clusters);
const nodeCount = Number(flags.nodes);
const minReady = Number(flags["min-ready"]);
for (const [name, value] of [
  ["--clusters", clusterCount],
  ["--nodes", nodeCount],
  ["--min-ready", minReady],
] as const)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);

type Json = Record<string, unknown>;
type Obj = {
  metadata: Json & { generation?: number; annotations?: Record<string, string> };
  spec: Json;
  status?: Json;
};

const daemonSetOf = (sim: RunningSimCluster) =>
  sim.store.get("daemonsets.apps", NAMESPACE, NAME) as unknown as Obj;
const rolledOut = (ds: Obj) => {
  const s = (ds.status ?? {}) as Record<string, number | undefined>;
  return (
    (s.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0) &&
    s.desiredNumberScheduled === nodeCount &&
    s.updatedNumberScheduled === nodeCount &&
    s.numberAvailable === nodeCount
  );
};

/** Resolves with the time at which `done` first holds for every cluster's DaemonSet (checked on each store event). */
function whenAll(sims: RunningSimCluster[], done: (ds: Obj) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const pending = new Set(sims);
    const check = (sim: RunningSimCluster) => {
      if (pending.has(sim) && done(daemonSetOf(sim))) {
        pending.delete(sim);
        unsubscribes.get(sim)?.();
        if (pending.size === 0) resolve(now());
      }
    };
    const unsubscribes = new Map<RunningSimCluster, () => void>();
    for (const sim of sims)
      unsubscribes.set(
        sim,
        sim.store.subscribe((event) => {
          if (event.resource === "daemonsets.apps") check(sim);
        }),
      );
    for (const sim of sims) check(sim);
  });
}

/**
 * The server's event-loop delay since the previous call, from its /metrics (prom-client's
 * monitorEventLoopDelay histogram, reset on each scrape): p99 and max in milliseconds.
 */
async function eventLoopDelay(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^tapfleet_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text)?.[1] ?? NaN) *
    1000;
  return { p99: gauge("p99"), max: gauge("max") };
}

const quantiles = (values: number[]): { first: number; median: number; last: number } => {
  const sorted = [...values].sort((a, b) => a - b);
  return { first: sorted[0] ?? NaN, median: sorted[sorted.length >> 1] ?? NaN, last: sorted.at(-1) ?? NaN };
};

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

async function main(): Promise<void> {
  const logPath = flags.log;
  const server = logPath
    ? await startBenchServer({
        adminPassword: ADMIN_PASSWORD,
        env: { TAPFLEET_SERVE_DASHBOARD: "false", TAPFLEET_DEMO: "off", LOG_LEVEL: "info" },
        logFile: () => logPath,
      })
    : await startBenchServer({
        adminPassword: ADMIN_PASSWORD,
        env: { TAPFLEET_SERVE_DASHBOARD: "false", TAPFLEET_DEMO: "off" },
      });
  const sims: RunningSimCluster[] = [];
  try {
    const cookie = await adminCookie(server.url, ADMIN_PASSWORD);
    const created = await fetch(`${server.url}/api/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ name: "bench", role: "admin" }),
    });
    if (!created.ok) throw new Error(`creating a token answered ${created.status}: ${await created.text()}`);
    const token = ((await created.json()) as { secret: string }).secret;
    const rest = async (method: string, route: string, body?: unknown): Promise<Json> => {
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
      return (text ? JSON.parse(text) : {}) as Json;
    };

    const setupStart = now();
    const ids = Array.from({ length: clusterCount }, (_, i) => `bench-${i + 1}`);
    // Ten clusters set up at a time: the simulators start here, the installs run on the server.
    const limit = pLimit(10);
    await Promise.all(
      ids.map((id) =>
        limit(async () => {
          const sim = await startSimCluster({
            name: id,
            nodes: nodeCount,
            kubelet: "fake",
            recordEvents: false,
            establishedNodes: true,
          });
          sims.push(sim);
          await rest("POST", "/clusters", { id });
          await rest("PUT", `/clusters/${id}/connection`, {
            kubeconfig: sim.kubeconfig(),
            context: sim.name,
          });
          await rest("POST", `/clusters/${id}/sensor`, {
            settings: { collectorHost: "collector.example.com" },
            image: "tapfleet/agent:1.0.0",
          });
        }),
      ),
    );
    await whenAll(sims, rolledOut);
    for (const sim of sims) {
      const ds = structuredClone(daemonSetOf(sim));
      ds.spec.minReadySeconds = minReady;
      sim.store.update("daemonsets.apps", ds as never);
    }
    await whenAll(sims, rolledOut);
    const profile = await rest("POST", "/profiles", {
      name: "bench",
      settings: { collectorHost: "collector.example.com", debugLevel: 2 },
      message: "bench",
    });
    console.log(
      `set-up: ${clusterCount} clusters × ${nodeCount} nodes installed in ${((now() - setupStart) / 1000).toFixed(1)} s`,
    );

    // Reference: every template written directly, all at once.
    const refStart = now();
    const refPatched = whenAll(sims, (ds) => ds.metadata.annotations?.["bench/reference"] === "1");
    const refComplete = whenAll(
      sims,
      (ds) => ds.metadata.annotations?.["bench/reference"] === "1" && rolledOut(ds),
    );
    await Promise.all(
      sims.map(async (sim) => {
        const kubeConfig = loadKubeConfig(sim.kubeconfig());
        const ref = { apiVersion: "apps/v1", kind: "DaemonSet", namespace: NAMESPACE, name: NAME };
        const raw = (await kubeRequest({ kubeConfig, method: "GET", path: objectPath(ref) })) as Obj;
        raw.metadata.annotations = { ...raw.metadata.annotations, "bench/reference": "1" };
        const template = raw.spec.template as { metadata: { annotations?: Record<string, string> } };
        template.metadata.annotations = { ...template.metadata.annotations, "bench/reference": "1" };
        raw.spec.updateStrategy = {
          type: "RollingUpdate",
          rollingUpdate: { maxUnavailable: "100%", maxSurge: 0 },
        };
        await kubeRequest({ kubeConfig, method: "PUT", path: objectPath(ref), body: raw });
      }),
    );
    const reference = { patched: (await refPatched) - refStart, complete: (await refComplete) - refStart };

    // Tapfleet: one rollout, one wave.
    const revision = `${String(profile.id)}@1`;
    const patched = whenAll(sims, (ds) => {
      const template = ds.spec.template as { metadata?: { annotations?: Record<string, string> } };
      return template.metadata?.annotations?.["tapfleet.io/config-revision"] === revision;
    });
    const recordings = sims.map((sim) => sim.requestLog.record());
    await eventLoopDelay(server.url); // resets the server's histogram: what follows is the rollout's
    const start = now();
    const rollout = await rest("POST", "/rollouts", {
      profileId: profile.id,
      revision: 1,
      clusterIds: ids,
      strategy: { waveSize: Math.min(ids.length, 100), maxUnavailable: "100%", gateSeconds: 3600 },
    });
    const answeredAt = now();
    const patchedAt = await patched;
    const loopWhilePatching = await eventLoopDelay(server.url);
    let status = "";
    let completeAt = 0;
    while (!["succeeded", "failed", "rolled-back", "aborted"].includes(status)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = String((await rest("GET", `/rollouts/${String(rollout.id)}`)).status);
      completeAt = now();
    }
    const loopWhileGating = await eventLoopDelay(server.url);
    for (const recording of recordings) recording.stop();
    const requests = recordings.flatMap((recording) => recording.requests);
    const countReads = (path: string) =>
      requests.filter((r) => r.method === "GET" && !r.watch && r.path.startsWith(path)).length;
    const daemonSetReads = countReads(`/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${NAME}`);
    const podLists = countReads(`/api/v1/namespaces/${NAMESPACE}/pods`);
    // When the server's writes of the DaemonSets reached the clusters: a late first one is a
    // late start, a long spread is the writes queueing behind each other.
    const daemonSetPath = `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${NAME}`;
    const writes = requests
      .filter((r) => r.method !== "GET" && r.path === daemonSetPath)
      .map((r) => r.at - start)
      .sort((a, b) => a - b);
    // Per cluster: when the runner's read of its DaemonSet (the start of its step) and its write
    // arrived; the time between is the server's work on it (render, baseline, the row recorded).
    const perCluster = recordings.map((recording) => {
      const ofDaemonSet = recording.requests.filter((r) => r.path === daemonSetPath && !r.watch);
      // The runner's read is the last one before its write (the drift controller reads it too).
      const write = ofDaemonSet.find((r) => r.method !== "GET");
      const read = ofDaemonSet.findLast((r) => r.method === "GET" && write !== undefined && r.at <= write.at);
      return read && write ? { read: read.at - start, write: write.at - start } : null;
    });
    const started = perCluster.filter((c) => c !== null);
    const reads = quantiles(started.map((c) => c.read));
    const readToWrite = quantiles(started.map((c) => c.write - c.read));
    const rss = await memory(server.pid);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    console.log(
      `\nrollout of one revision to ${clusterCount} clusters × ${nodeCount} nodes (minReadySeconds ${minReady}): ${status}\n`,
    );
    console.log("| measure | Tapfleet | reference (direct PUTs from the bench) |");
    console.log("|---|---|---|");
    console.log(
      `| apply → all DaemonSets patched | ${seconds(patchedAt - start)} | ${seconds(reference.patched)} |`,
    );
    console.log(
      `| apply → rollout complete | ${seconds(completeAt - start)} | ${seconds(reference.complete)} (all pods updated and available) |`,
    );
    console.log(`| server RSS at the end (peak) | ${mib(rss.rss)} (${mib(rss.hwm)}) | |`);
    console.log(
      `| reads of the clusters' APIs during the rollout (no watches) | ${daemonSetReads} DaemonSet GETs, ${podLists} pod lists (${((daemonSetReads + podLists) / ((completeAt - start) / 1000)).toFixed(1)}/s) | |`,
    );
    console.log(
      `| DaemonSet writes by the server (first, median, last after apply) | ${writes.length}: ${writes.length ? [writes[0]!, writes[writes.length >> 1]!, writes.at(-1)!].map(seconds).join(", ") : "none"} | |`,
    );
    const triple = (q: { first: number; median: number; last: number }) =>
      [q.first, q.median, q.last].map(seconds).join(", ");
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    console.log(`\nwhere "apply → all patched" went (${started.length} clusters, first / median / last):\n`);
    console.log("| phase | after apply |");
    console.log("|---|---|");
    console.log(`| POST /rollouts answered | ${seconds(answeredAt - start)} |`);
    console.log(`| the runner's read of each DaemonSet (its step starts) | ${triple(reads)} |`);
    console.log(
      `| read → write, per cluster (render, baseline, the wave's rows recorded) | ${triple(readToWrite)} (durations) |`,
    );
    console.log(`| the write of each DaemonSet | ${triple(quantiles(writes))} |`);
    console.log(
      `| server event-loop delay, apply → all patched (p99 / max) | ${ms(loopWhilePatching.p99)} / ${ms(loopWhilePatching.max)} |`,
    );
    console.log(
      `| server event-loop delay, all patched → complete (p99 / max) | ${ms(loopWhileGating.p99)} / ${ms(loopWhileGating.max)} |`,
    );
    if (status !== "succeeded") process.exitCode = 1;
  } finally {
    await Promise.all(sims.map((sim) => sim.stop()));
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
