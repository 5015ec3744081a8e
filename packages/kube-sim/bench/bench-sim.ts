// kube-sim at fleet scale: one DaemonSet on N nodes (default 5,000) with the
// fake kubelet at 0 delay. Measures scheduling to all-Ready, a full rolling
// update at maxUnavailable 10%, list latency (in-process and over HTTP), the
// steady heartbeat load (Lease renewals every 10 s, node status every 5 min) and
// RSS. The main cluster runs with heartbeats on, as a real one does.
//
//   npm run bench:sim              # 5,000 nodes
//   BENCH_NODES=500 npm run bench:sim

import { performance } from "node:perf_hooks";
import { createSimCluster } from "../src/cluster.ts";
import { createManualClock } from "../src/manual-clock.ts";
import { startApiServer } from "../src/server.ts";
import { daemonSetFixture } from "../src/testing/fixtures.ts";
import type { KubeObject } from "../src/types.ts";

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const EVENTS = process.env.BENCH_EVENTS !== "0";

function daemonSet(image: string): KubeObject {
  return daemonSetFixture({
    name: "tapfleet-sensor",
    containerName: "sensor",
    image,
    env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
    spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } } },
    podSpec: { hostNetwork: true },
  });
}

/** Resolves when the DaemonSet reports every pod updated and available for its current generation. */
function rolledOut(cluster: ReturnType<typeof createSimCluster>): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const ds = cluster.store.get("daemonsets.apps", "default", "tapfleet-sensor");
      const s = (ds?.status ?? {}) as Record<string, number | undefined>;
      const done =
        ds !== undefined &&
        (s.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0) &&
        s.desiredNumberScheduled === NODES &&
        s.updatedNumberScheduled === NODES &&
        s.numberAvailable === NODES;
      return done;
    };
    if (check()) return resolve();
    const unsubscribe = cluster.store.subscribe((e) => {
      if (e.resource === "daemonsets.apps" && check()) {
        unsubscribe();
        resolve();
      }
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall time and this process's CPU time since `start`: the machine is shared, so CPU time is the steadier figure. */
function since(start: { wall: number; cpu: NodeJS.CpuUsage }): string {
  const cpu = process.cpuUsage(start.cpu);
  return `${((performance.now() - start.wall) / 1000).toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)`;
}

function mark(): { wall: number; cpu: NodeJS.CpuUsage } {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  // The simulator's timers are unref'd (it must never hold a process open); the bench must.
  const keepAlive = setInterval(() => undefined, 1_000);
  const rows: [string, string][] = [];
  const t0 = mark();
  const cluster = createSimCluster({ nodes: NODES, kubelet: "fake", readyDelayMs: 0, recordEvents: EVENTS });
  rows.push([`create ${NODES} nodes`, since(t0)]);

  const t1 = mark();
  cluster.store.create("daemonsets.apps", daemonSet("tapfleet/agent:1.0.0"));
  await rolledOut(cluster);
  rows.push([`schedule ${NODES} pods to all Ready`, since(t1)]);
  const syncsBefore = cluster.daemonSets.syncCount();
  rows.push(["DaemonSet syncs for that", String(syncsBefore)]);

  const t2 = mark();
  const current = cluster.store.get("daemonsets.apps", "default", "tapfleet-sensor")!;
  const next = structuredClone(current);
  const template = next.spec!.template as { spec: { containers: { image: string }[] } };
  template.spec.containers[0]!.image = "tapfleet/agent:1.1.0";
  cluster.store.update("daemonsets.apps", next);
  await rolledOut(cluster);
  rows.push(["rolling update, maxUnavailable 10%", since(t2)]);
  rows.push(["DaemonSet syncs for that", String(cluster.daemonSets.syncCount() - syncsBefore)]);

  const inProcess: number[] = [];
  // One warm-up run (JIT, first-touch caches), then five measured ones.
  cluster.store.list("pods", { namespace: "default", labelSelector: "app=tapfleet-sensor" });
  const inProcessCpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const { items } = cluster.store.list("pods", {
      namespace: "default",
      labelSelector: "app=tapfleet-sensor",
    });
    inProcess.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    inProcessCpu.push((used.user + used.system) / 1000);
    if (items.length !== NODES) throw new Error(`listed ${items.length} pods, expected ${NODES}`);
  }
  rows.push([
    `list ${NODES} pods in-process (median of 5 after a warm-up)`,
    `${median(inProcess).toFixed(1)} ms (CPU ${median(inProcessCpu).toFixed(1)} ms)`,
  ]);

  const server = await startApiServer({
    store: cluster.store,
    token: "bench",
    tls: false,
    logs: cluster.logs,
  });
  try {
    const overHttp: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const res = await fetch(
        `${server.url}/api/v1/namespaces/default/pods?labelSelector=app%3Dtapfleet-sensor`,
        {
          headers: { authorization: "Bearer bench", accept: "application/json" },
        },
      );
      const body = (await res.json()) as { items: unknown[] };
      if (i > 0) overHttp.push(performance.now() - t); // the first request warms up
      bytes = Number(res.headers.get("content-length") ?? 0);
      if (body.items.length !== NODES)
        throw new Error(`HTTP listed ${body.items.length} pods, expected ${NODES}`);
    }
    rows.push([
      `list ${NODES} pods over HTTP incl. JSON parse (median of 5 after a warm-up)`,
      `${median(overHttp).toFixed(1)} ms${bytes ? ` (${mb(bytes)})` : ""}`,
    ]);
  } finally {
    await server.close();
  }

  rows.push([
    "objects in store (pods + events + revisions + nodes)",
    String(
      ["pods", "events", "controllerrevisions.apps", "nodes"].reduce(
        (n, r) => n + cluster.store.list(r).items.length,
        0,
      ),
    ),
  ]);
  rows.push(["RSS after the run", mb(process.memoryUsage().rss)]);
  await cluster.stop();

  // Heartbeats alone, on a manual clock so ten minutes of cluster time run as fast as the CPU allows.
  const clock = createManualClock();
  const idle = createSimCluster({ nodes: NODES, kubelet: "fake", clock, recordEvents: EVENTS });
  idle.store.create("daemonsets.apps", daemonSet("tapfleet/agent:1.0.0"));
  clock.advance(1_000);
  const writesBefore = idle.heartbeats!.writeCount();
  let nodeEvents = 0;
  let leaseEvents = 0;
  const unsubscribe = idle.store.subscribe((e) => {
    if (e.resource === "nodes") nodeEvents++;
    else if (e.resource === "leases.coordination.k8s.io") leaseEvents++;
  });
  const simulatedMs = 600_000;
  const t3 = mark();
  clock.advance(simulatedMs);
  const cpu = process.cpuUsage(t3.cpu);
  unsubscribe();
  const writes = idle.heartbeats!.writeCount() - writesBefore;
  rows.push([
    `heartbeats: 10 min of cluster time, ${NODES} nodes`,
    `${since(t3)}; ${((cpu.user + cpu.system) / 1e3 / (simulatedMs / 1000)).toFixed(1)} ms CPU per cluster second`,
  ]);
  rows.push([
    "heartbeat writes (lease / node watch events per cluster second)",
    `${writes} (${(leaseEvents / (simulatedMs / 1000)).toFixed(0)} / ${(nodeEvents / (simulatedMs / 1000)).toFixed(1)})`,
  ]);
  await idle.stop();
  clearInterval(keepAlive);

  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(
    `kube-sim bench: ${NODES} nodes, fake kubelet (0 ms), events ${EVENTS ? "on" : "off"}, Node ${process.version}`,
  );
  console.log(`| ${"measure".padEnd(width)} | result |`);
  console.log(`|${"-".repeat(width + 2)}|--------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
