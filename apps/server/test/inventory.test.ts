// The fleet inventory at run time: a real server (the leader) watches a
// simulated cluster through the real Kubernetes client, persists each node's
// coverage, and answers GET /api/v1/clusters/{id}/nodes and /api/v1/coverage;
// a second replica (not the leader) answers the same from the database. Each
// sensor DaemonSet's status is checked against what the real kubectl shows.
//
// The connection is given through the server's `inventory.connections` seam
// (the stored, encrypted cluster connections plug into the same interface).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApiToken, createUser, type ClusterConnection } from "@tapfleet/core";
import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import {
  createSimCluster,
  kubeconfigFor,
  startApiServer,
  type ApiServer,
  type SimCluster,
} from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD } from "./harness.ts";
import { kubectl as runKubectl } from "./kubectl.ts";

interface NodeItem {
  nodeName: string;
  daemonSet: { namespace: string; name: string };
  state: string;
  reason: string;
  since: string;
  stale: boolean;
  podName: string | null;
}
interface NodesPage {
  items: NodeItem[];
  nextCursor: string | null;
}

const CLUSTER = "sim-fleet";
const TOKEN = "inventory-test-token";
let database: TestDatabase;
let db: Db;
let cluster: SimCluster;
let api: ApiServer;
let leader: RunningServer;
let follower: RunningServer;
let token: string;
let kubeconfigFile: string;

function startApi(port?: number): Promise<ApiServer> {
  return startApiServer({ store: cluster.store, token: TOKEN, bookmarkIntervalMs: 1_000, port });
}

function startReplica(connections: ClusterConnection[]): Promise<RunningServer> {
  const env = loadServerEnv({
    DATABASE_URL: database.url,
    PORT: "0",
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  return startServer({
    env,
    logger: createLogger(env.LOG_LEVEL),
    announce: () => undefined,
    inventory: {
      connections: { listClusterConnections: () => Promise.resolve(connections) },
      reconcileIntervalMs: 500,
      watch: { backoff: { initialMs: 200, maxMs: 2_000 } },
    },
  });
}

interface DaemonSetStatus {
  desired: number;
  current: number;
  ready: number;
  upToDate: number;
  available: number;
  generation: number;
  observedGeneration: number | null;
  rollingOut: boolean;
}

const kubectl = (...args: string[]) => runKubectl(kubeconfigFile, ...args);

/** The sensor DaemonSet as `kubectl get ds -o wide` prints it, with its generations. */
async function kubectlDaemonSet(): Promise<Omit<DaemonSetStatus, "rollingOut">> {
  const target = ["get", "ds", "tapfleet-sensor", "-n", "tapfleet"];
  const columns = (await kubectl(...target, "-o", "wide", "--no-headers")).trim().split(/\s+/);
  const [generation, observed] = (
    await kubectl(...target, "-o", "jsonpath={.metadata.generation} {.status.observedGeneration}")
  )
    .trim()
    .split(" ");
  const [desired, current, ready, upToDate, available] = columns.slice(1, 6).map(Number);
  return {
    desired: desired!,
    current: current!,
    ready: ready!,
    upToDate: upToDate!,
    available: available!,
    generation: Number(generation),
    observedGeneration: observed ? Number(observed) : null,
  };
}

async function get<T>(server: RunningServer, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function nodes(server: RunningServer = leader, query = ""): Promise<Record<string, NodeItem>> {
  const { status, body } = await get<NodesPage>(server, `/clusters/${CLUSTER}/nodes${query}`);
  if (status !== 200) throw new Error(`nodes answered ${status}: ${JSON.stringify(body)}`);
  return Object.fromEntries(body.items.map((item) => [item.nodeName, item]));
}

/** Waits until the REST list shows `check` holding (the shared waitFor; nothing announces a persisted batch to a client). */
function untilNodes(what: string, check: (list: Record<string, NodeItem>) => boolean, timeoutMs = 2_000) {
  return waitFor(() => nodes(), { what, timeoutMs, until: check });
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
  cluster = createSimCluster({ nodes: 3, kubelet: "fake", crashAfterMs: 200 });
  cluster.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({
    name: "tapfleet-sensor",
    namespace: "tapfleet",
    env: [{ name: "TAPFLEET_REPORT_INTERVAL", value: "60" }],
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  cluster.store.create("daemonsets.apps", daemonSet);
  api = await startApi();
  const kubeconfig = toYaml(
    kubeconfigFor([{ name: "sim", url: api.url, token: TOKEN, caCertificate: api.caCertificate }]),
  );
  const connections = [{ clusterId: CLUSTER, kubeconfig, context: "sim" }];
  kubeconfigFile = path.join(await mkdtemp(path.join(tmpdir(), "tapfleet-inventory-")), "kubeconfig");
  await writeFile(kubeconfigFile, kubeconfig);
  leader = await startReplica(connections);
  follower = await startReplica(connections);
  const user = await createUser({
    db,
    username: "inventory-viewer",
    role: "viewer",
    password: "viewer-password-123",
  });
  token = (
    await createApiToken({
      db,
      creator: { type: "user", id: user.id, name: user.username, role: "viewer", sessionId: "" },
      name: "inventory-viewer-token",
      role: "viewer",
    })
  ).secret;
}, 60_000);

afterAll(async () => {
  await follower?.stop();
  await leader?.stop();
  await api?.close();
  await cluster?.stop();
  await db?.$disconnect();
  await database?.stop();
  if (kubeconfigFile) await rm(path.dirname(kubeconfigFile), { recursive: true, force: true });
});

describe("fleet inventory at run time", () => {
  it("shows every node's coverage, follows the cluster's changes within 2 s, and serves it from every replica", async () => {
    expect(leader.isLeader()).toBe(true);
    expect(follower.isLeader()).toBe(false);

    // Ready pods whose agents have not reported yet (the interval is 60 s, so no sensor is silent yet).
    const first = await untilNodes(
      "three nodes starting",
      (list) => ["node-1", "node-2", "node-3"].every((n) => list[n]?.state === "starting" && !list[n].stale),
      15_000,
    );
    expect(first["node-1"]!.daemonSet).toEqual({ namespace: "tapfleet", name: "tapfleet-sensor" });
    expect(first["node-1"]!.reason).toMatch(/waiting for its agent's first report/);

    // The follower reads the same rows.
    expect(await nodes(follower)).toEqual(await nodes(leader));

    // Deleting a pod: the DaemonSet controller replaces it; the node shows the new pod.
    const oldPod = first["node-1"]!.podName!;
    cluster.store.delete("pods", "tapfleet", oldPod);
    await untilNodes(
      "node-1 on a new pod",
      (list) => list["node-1"]?.podName !== oldPod && list["node-1"]?.state === "starting",
    );

    // A NoSchedule taint the DaemonSet does not tolerate.
    cluster.taint("node-2", { key: "dedicated", value: "db", effect: "NoSchedule" });
    const tainted = await untilNodes("node-2 excluded", (list) => list["node-2"]?.state === "excluded");
    expect(tainted["node-2"]!.reason).toBe("Taint dedicated=db:NoSchedule is not tolerated.");

    // A new node.
    cluster.addNode("node-4");
    await untilNodes("node-4 listed", (list) => list["node-4"] !== undefined);

    // A node going NotReady.
    cluster.setNodeReady("node-3", false);
    await untilNodes("node-3 not ready", (list) => list["node-3"]?.state === "node-not-ready");

    // A crash loop.
    const crashing = (await nodes())["node-1"]!.podName!;
    cluster.setCrashLoop((pod) => pod.metadata.name === crashing, true);
    const looping = await untilNodes(
      "node-1 crash-looping",
      (list) => list["node-1"]?.state === "crash-looping",
    );
    expect(looping["node-1"]!.reason).toMatch(
      new RegExp(`Container agent of pod ${crashing} keeps crashing`),
    );

    // Filter by state, paged.
    const { body: onlyNotReady } = await get<NodesPage>(
      follower,
      `/clusters/${CLUSTER}/nodes?state=node-not-ready`,
    );
    expect(onlyNotReady.items.map((i) => i.nodeName)).toEqual(["node-3"]);
    const firstPage = await get<NodesPage>(leader, `/clusters/${CLUSTER}/nodes?limit=2`);
    expect(firstPage.body.items.map((i) => i.nodeName)).toEqual(["node-1", "node-2"]);
    const secondPage = await get<NodesPage>(
      leader,
      `/clusters/${CLUSTER}/nodes?limit=2&cursor=${firstPage.body.nextCursor}`,
    );
    expect(secondPage.body.items.map((i) => i.nodeName)).toEqual(["node-3", "node-4"]);
    expect(secondPage.body.nextCursor).toBeNull();

    // Coverage: nothing covered (no agent reported); node-2 (tainted) and node-3 (its not-ready
    // NoSchedule taint is not tolerated by DaemonSet pods) are not targeted.
    const coverage = await get<{
      fleet: { targeted: number; covered: number; coveragePercent: number | null };
      clusters: {
        clusterId: string;
        reachability: string;
        daemonSets: Record<string, { targeted: number }>;
      }[];
    }>(follower, "/coverage");
    expect(coverage.status).toBe(200);
    expect(coverage.body.fleet).toMatchObject({ targeted: 2, covered: 0, coveragePercent: 0 });
    expect(coverage.body.clusters).toMatchObject([{ clusterId: CLUSTER, reachability: "reachable" }]);
    expect(coverage.body.clusters[0]!.daemonSets["tapfleet/tapfleet-sensor"]).toMatchObject({ targeted: 2 });
    // One cluster's coverage (what its page reads): the same figures, for it alone.
    const one = await get<typeof coverage.body>(follower, `/coverage?clusterId=${CLUSTER}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(coverage.body);
  }, 60_000);

  it("shows each sensor DaemonSet's status as kubectl get ds shows it, rolling out until every pod runs the new template", async () => {
    const statusNow = async () => {
      const { body } = await get<{ clusters: { daemonSetStatus: Record<string, DaemonSetStatus> }[] }>(
        follower,
        "/coverage",
      );
      return body.clusters[0]?.daemonSetStatus["tapfleet/tapfleet-sensor"];
    };
    /** Reads kubectl and the REST answer until they agree and `check` holds. */
    const agreeing = (what: string, check: (status: DaemonSetStatus) => boolean) =>
      waitFor(async () => ({ kube: await kubectlDaemonSet(), ours: await statusNow() }), {
        what,
        timeoutMs: 15_000,
        until: ({ kube, ours }) =>
          ours !== undefined &&
          Object.entries(kube).every(([key, value]) => ours[key as keyof typeof kube] === value) &&
          check(ours),
      });
    const update = (change: (spec: Record<string, unknown>) => void) => {
      const daemonSet = structuredClone(cluster.store.get("daemonsets.apps", "tapfleet", "tapfleet-sensor")!);
      change(daemonSet.spec!);
      return cluster.store.update("daemonsets.apps", daemonSet).metadata.generation!;
    };

    const before = await agreeing(
      "the status as kubectl shows it",
      (s) => s.observedGeneration === s.generation,
    );
    expect(before.ours?.desired).toBeGreaterThan(0);

    // A new image the controller may not roll out by itself (OnDelete): observed, but no pod up to date.
    const onDelete = update((spec) => {
      spec.updateStrategy = { type: "OnDelete" };
      const template = spec.template as { spec: { containers: { image: string }[] } };
      template.spec.containers[0]!.image = "tapfleet/agent:2";
    });
    const stuck = await agreeing(
      "the new generation observed, no pod up to date",
      (s) => s.generation === onDelete && s.observedGeneration === onDelete,
    );
    expect(stuck.ours).toMatchObject({ upToDate: 0, rollingOut: true });

    // What OnDelete waits for: the old pods deleted, the controller creates them on the new template.
    for (const pod of cluster.store.list("pods", { namespace: "tapfleet" }).items)
      cluster.store.delete("pods", "tapfleet", pod.metadata.name!);
    const done = await agreeing(
      "every pod on the new template",
      (s) => s.desired > 0 && s.upToDate === s.desired,
    );
    expect(done.ours).toMatchObject({
      generation: onDelete,
      observedGeneration: onDelete,
      rollingOut: false,
    });
  }, 40_000);

  it("marks a cluster whose API stops unreachable and its nodes stale within 10 s, and recovers without a restart", async () => {
    // Refuse requests first so every request in flight ends, then close.
    api.faults.fail({ code: 503 });
    const port = api.port;
    const stoppedAt = Date.now();
    await api.close();
    const away = await untilNodes(
      "every node unreachable and stale",
      (list) =>
        Object.values(list).length === 4 &&
        Object.values(list).every((n) => n.state === "unreachable" && n.stale),
      10_000,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(away["node-1"]!.reason).toMatch(/cannot be reached/);
    const { body: coverage } = await get<{ clusters: { reachability: string; stale: boolean }[] }>(
      follower,
      "/coverage",
    );
    expect(coverage.clusters[0]).toMatchObject({ reachability: "unreachable", stale: true });

    api = await startApi(port);
    await untilNodes(
      "nodes fresh again",
      (list) => list["node-4"]?.state === "starting" && Object.values(list).every((n) => !n.stale),
      10_000,
    );
  }, 30_000);

  it("refuses a bad filter naming the field, and an unknown cluster with 404", async () => {
    const bad = await get<{ message: string }>(leader, `/clusters/${CLUSTER}/nodes?limit=501`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/limit/);
    const badState = await get<{ message: string }>(leader, `/clusters/${CLUSTER}/nodes?state=happy`);
    expect(badState.status).toBe(400);
    expect(JSON.stringify(badState.body)).toMatch(/state/);
    const unknown = await get<{ message: string }>(leader, `/clusters/nowhere/nodes`);
    expect(unknown.status).toBe(404);
    // Registered but not connected: known, with no coverage of its own, while the fleet's has some.
    await db.cluster.create({ data: { id: "registered-only" } });
    const registeredOnly = await get<{ fleet: { targeted: number }; clusters: unknown[] }>(
      leader,
      `/coverage?clusterId=registered-only`,
    );
    expect(registeredOnly.status).toBe(200);
    expect(registeredOnly.body).toMatchObject({ fleet: { targeted: 0 }, clusters: [] });
    const fleet = await get<{ fleet: { targeted: number }; clusters: unknown[] }>(leader, `/coverage`);
    expect(fleet.body.clusters).toHaveLength(1);
    expect(fleet.body.fleet.targeted).toBeGreaterThan(0);
    const unknownCoverage = await get<{ error?: { message: string } }>(leader, `/coverage?clusterId=nowhere`);
    expect(unknownCoverage.status).toBe(404);
    expect(unknownCoverage.body.error?.message).toBe('No cluster "nowhere".');
    const badCoverage = await get<unknown>(leader, `/coverage?clusterId=Not%20an%20id`);
    expect(badCoverage.status).toBe(400);
    expect(JSON.stringify(badCoverage.body)).toMatch(/clusterId/);
    const anonymous = await fetch(`${leader.url}/api/v1/coverage`);
    expect(anonymous.status).toBe(401);
  });
});
