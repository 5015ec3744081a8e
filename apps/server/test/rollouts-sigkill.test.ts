// A rollout survives a SIGKILL of the server: a real server process (npm
// start's entry point) is killed while a cluster is under way, a new one is
// started on the same database, and the rollout completes — or, for a change
// whose agents crash, is rolled back — with nothing left half-done.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { createApiToken, createUser } from "@tapfleet/core";
import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { ADMIN_PASSWORD } from "./harness.ts";
import { callRest } from "./rest.ts";

const NAMESPACE = "tapfleet-sensor";
const NAME = "tapfleet-sensor";
const SECRET_KEY = randomBytes(32).toString("base64");

interface Server {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

let database: TestDatabase;
let db: Db;
let sim: RunningSimCluster;
let server: Server | undefined;
let token: string;
let profileId: string;
type Json = Record<string, unknown>;

/** Starts the server's entry point as its own process; resolves once it listens. */
async function startServerProcess(): Promise<Server> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.resolve(import.meta.dirname, "../src/main.ts")],
    {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        PORT: "0",
        TAPFLEET_SERVE_DASHBOARD: "false",
        TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TAPFLEET_SECRET_KEY: SECRET_KEY,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg?.startsWith("Tapfleet is listening") && parsed.url) resolve(parsed.url);
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error(`the server exited while starting: ${stderr}`)));
  });
  return { url, child, exited };
}

const rest = (method: string, route: string, body?: unknown) =>
  callRest<Json>(server!.url, { method, path: route, body, token });

/** The config-revision annotation of the DaemonSet's template and of each live pod (with its readiness). */
function inCluster() {
  const revisionOf = (object: { metadata?: { annotations?: Record<string, string> } }) =>
    object.metadata?.annotations?.["tapfleet.io/config-revision"] ?? null;
  const daemonSet = sim.store.get("daemonsets.apps", NAMESPACE, NAME) as unknown as {
    spec: { template: { metadata?: { annotations?: Record<string, string> } } };
  };
  const pods = sim.store
    .list("pods", { namespace: NAMESPACE })
    .items.filter((pod) => !pod.metadata.deletionTimestamp)
    .map((pod) => ({
      revision: revisionOf(pod as never),
      ready: (
        (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []
      ).some((c) => c.type === "Ready" && c.status === "True"),
    }));
  return { template: revisionOf(daemonSet.spec.template), pods };
}

async function killServer(): Promise<void> {
  server!.child.kill("SIGKILL");
  await server!.exited;
  server = undefined;
}

/** Starts a rollout, kills the server once its cluster is under way, restarts it, and returns the outcome. */
async function rolloutAcrossAKill(revision: number) {
  const started = await rest("POST", "/rollouts", {
    profileId,
    revision,
    clusterIds: ["solo"],
    strategy: { gateSeconds: 60, maxUnavailable: 1 },
  });
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  const id = String(started.json.id);
  const underWay = await waitFor(
    () =>
      db.rolloutCluster.findUnique({ where: { rolloutId_clusterId: { rolloutId: id, clusterId: "solo" } } }),
    {
      what: "the cluster to be under way",
      timeoutMs: 20_000,
      intervalMs: 20,
      until: (row) => row?.status === "gating",
    },
  );
  await killServer();
  // Killed half-way: the change is in the cluster, the rollout is not over.
  const atKill = await db.rollout.findUniqueOrThrow({ where: { id } });
  expect(atKill.status).toBe("running");
  expect(underWay?.before).not.toBeNull();
  expect(inCluster().template).toBe(`${profileId}@${revision}`);

  server = await startServerProcess();
  const done = await waitFor(() => rest("GET", `/rollouts/${id}`), {
    what: "the rollout to end after the restart",
    timeoutMs: 40_000,
    until: (answer) => ["succeeded", "rolled-back", "failed", "aborted"].includes(String(answer.json.status)),
  });
  return done.json as { status: string; reason: string | null; clusters: Array<{ status: string }> };
}

beforeAll(async () => {
  [database, sim] = await Promise.all([
    createTestDatabase(),
    startSimCluster({
      nodes: 3,
      kubelet: "fake",
      crashWhen: ({ env }) =>
        env.VSENSOR_PORT === "9999" ? { exitCode: 1, message: "collector refused" } : false,
      crashAfterMs: 1_500,
      backOffBaseMs: 500,
    }),
  ]);
  server = await startServerProcess();
  db = createDb({ url: database.url, maxConnections: 2 });
  const user = await createUser({ db, username: "ops", role: "admin", password: "ops-password-12345" });
  token = (
    await createApiToken({
      db,
      creator: { type: "user", id: user.id, name: user.username, role: "admin", sessionId: "" },
      name: "ops-token",
      role: "admin",
    })
  ).secret;
  expect((await rest("POST", "/clusters", { id: "solo" })).status).toBe(200);
  expect(
    (await rest("PUT", "/clusters/solo/connection", { kubeconfig: sim.kubeconfig(), context: sim.name }))
      .status,
  ).toBe(200);
  const installed = await rest("POST", "/clusters/solo/sensor", {
    settings: { collectorHost: "collector.example.com" },
    image: "tapfleet/agent:1.0.0",
  });
  expect(installed.status, JSON.stringify(installed.json)).toBe(200);
  // Pods count as available after 2 s Ready: three nodes one at a time leave time to kill the server mid-way.
  const daemonSet = structuredClone(sim.store.get("daemonsets.apps", NAMESPACE, NAME)!);
  (daemonSet.spec as Json).minReadySeconds = 2;
  sim.store.update("daemonsets.apps", daemonSet);
  const created = await rest("POST", "/profiles", {
    name: "edge",
    settings: { collectorHost: "collector.example.com", debugLevel: 2 },
    message: "first",
  });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  profileId = String(created.json.id);
  const crashing = await rest("POST", `/profiles/${profileId}/revisions`, {
    expectedLatest: 1,
    settings: { collectorHost: "collector.example.com", debugLevel: 2, collectorPort: 9999 },
    message: "a port the agents cannot use",
  });
  expect(crashing.status, JSON.stringify(crashing.json)).toBe(200);
}, 60_000);

afterAll(async () => {
  if (server) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  await db?.$disconnect();
  await Promise.all([sim?.stop(), database?.stop()]);
});

describe("rollouts across a SIGKILL of the server", () => {
  it("a rollout under way when the server is killed completes after the restart", async () => {
    const done = await rolloutAcrossAKill(1);
    expect(done.status, JSON.stringify(done)).toBe("succeeded");
    expect(done.clusters.map((c) => c.status)).toEqual(["succeeded"]);
    const seen = inCluster();
    expect(seen.template).toBe(`${profileId}@1`);
    expect(seen.pods).toEqual([
      { revision: `${profileId}@1`, ready: true },
      { revision: `${profileId}@1`, ready: true },
      { revision: `${profileId}@1`, ready: true },
    ]);
    const install = await db.sensorInstall.findUniqueOrThrow({ where: { clusterId: "solo" } });
    expect(install.profileRevision).toBe(1);
  }, 90_000);

  it("a crashing change under way when the server is killed is rolled back after the restart", async () => {
    const done = await rolloutAcrossAKill(2);
    expect(done.status, JSON.stringify(done)).toBe("rolled-back");
    expect(done.reason).toMatch(/^solo: node-\d: .*collector refused/);
    expect(done.clusters.map((c) => c.status)).toEqual(["rolled-back"]);
    expect(inCluster().template).toBe(`${profileId}@1`);
    await waitFor(() => inCluster().pods, {
      what: "every pod back on r1 and Ready",
      timeoutMs: 20_000,
      until: (pods) => pods.length === 3 && pods.every((p) => p.revision === `${profileId}@1` && p.ready),
    });
    const install = await db.sensorInstall.findUniqueOrThrow({ where: { clusterId: "solo" } });
    expect(install.profileRevision).toBe(1);
  }, 90_000);
});
