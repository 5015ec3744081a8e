// A leader controller whose round fails returns, so that the runner logs the
// failure and starts it again. Under load a round of the inventory failed (a
// database read of the connections timing out): its `finally` stopped every
// cluster watch, then waited for its topic subscriptions, which ended only
// with the leadership term. The inventory stayed stopped without a word in
// the log, the rollouts found no watch of any cluster, and a rollout's
// clusters sat in their gate saying "the leader is not watching the cluster
// yet" until its deadline. Real server, real PostgreSQL, a simulated cluster.
import { createSecretBox, type ClusterConnection } from "@tapfleet/core";
import { createDb, createLiveBus, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createDebugLevelController } from "../src/controllers/debug-level.ts";
import { createRolloutsController } from "../src/controllers/rollouts.ts";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD } from "./harness.ts";
import { callRest } from "./rest.ts";

type Json = Record<string, unknown>;
const CLUSTER = "recovering";
const NAMESPACE = "tapfleet-sensor";
const NAME = "tapfleet-sensor";

let database: TestDatabase;
let server: RunningServer;
let sim: RunningSimCluster;
let bus: LiveBus;
let token: string;
/** What the inventory's connection source answers, and whether its next read fails. */
const source = { connections: [] as ClusterConnection[], failNext: false, failures: 0 };

const rest = (method: string, path: string, body?: unknown) =>
  callRest<Json>(server.url, { method, path, body, token });

beforeAll(async () => {
  [database, sim] = await Promise.all([
    createTestDatabase(),
    startSimCluster({ name: CLUSTER, nodes: 2, kubelet: "fake" }),
  ]);
  const env = loadServerEnv({
    DATABASE_URL: database.url,
    PORT: "0",
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  server = await startServer({
    env,
    logger: createLogger(env.LOG_LEVEL),
    announce: () => undefined,
    inventory: {
      // The stored connections' read, as the leader's inventory makes it each round; the test
      // makes one read fail the way a database read fails under load.
      connections: {
        listClusterConnections: () => {
          if (!source.failNext) return Promise.resolve(source.connections);
          source.failNext = false;
          source.failures++;
          return Promise.reject(new Error("timed out fetching a new connection from the connection pool"));
        },
      },
    },
  });
  bus = await createLiveBus({ url: database.url });
  const login = await fetch(`${server.url}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const created = await fetch(`${server.url}/api/v1/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ name: "recovery", role: "admin" }),
  });
  token = ((await created.json()) as { secret: string }).secret;
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await server?.stop();
  await Promise.all([sim?.stop(), database?.stop()]);
});

describe("a leader controller whose round fails", () => {
  it("the inventory is started again, so a rollout's cluster is watched and its gate passes", async () => {
    expect((await rest("POST", "/clusters", { id: CLUSTER })).status).toBe(200);
    // The connection is saved: its announcement wakes the inventory, whose next read fails.
    source.connections = [{ clusterId: CLUSTER, kubeconfig: sim.kubeconfig(), context: sim.name }];
    source.failNext = true;
    const saved = await rest("PUT", `/clusters/${CLUSTER}/connection`, {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const installed = await rest("POST", `/clusters/${CLUSTER}/sensor`, {
      settings: { collectorHost: "collector.example.com" },
      image: "tapfleet/agent:1.0.0",
    });
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    const daemonSet = structuredClone(sim.store.get("daemonsets.apps", NAMESPACE, NAME)!);
    (daemonSet.spec as Json).minReadySeconds = 1;
    sim.store.update("daemonsets.apps", daemonSet);
    await waitFor(() => Promise.resolve(source.failures), {
      what: "the inventory's read of the connections to fail",
      timeoutMs: 10_000,
      until: (failures) => failures === 1,
    });

    const profile = await rest("POST", "/profiles", {
      name: "recovery",
      settings: { collectorHost: "collector.example.com", debugLevel: 2 },
      message: "first",
    });
    expect(profile.status, JSON.stringify(profile.json)).toBe(200);
    const started = await rest("POST", "/rollouts", {
      profileId: profile.json.id,
      revision: 1,
      clusterIds: [CLUSTER],
      strategy: { maxUnavailable: "100%", gateSeconds: 120 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    // Before the change the inventory never came back in this term: the cluster waited with
    // "the leader is not watching the cluster yet" until the gate's deadline (120 s here).
    const done = await waitFor(() => rest("GET", `/rollouts/${String(started.json.id)}`), {
      what: "the rollout to succeed",
      timeoutMs: 30_000,
      until: (answer) => answer.json.status !== "running",
    });
    expect(done.json.status, JSON.stringify(done.json)).toBe("succeeded");
  }, 60_000);

  it.each([
    ["rollouts", createRolloutsController],
    ["debug-level", createDebugLevelController],
  ] as const)(
    "%s returns its failure instead of waiting for the end of the term",
    async (_name, create) => {
      // A database that does not answer (a name PostgreSQL does not know): the first read fails.
      const url = new URL(database.url);
      url.pathname = "/no_such_database";
      const db = createDb({ url: url.toString(), maxConnections: 1 });
      const term = new AbortController();
      try {
        const controller = create({
          db,
          bus,
          secrets: createSecretBox(Buffer.alloc(32, 7)),
          logger: pino({ level: "silent" }),
        });
        // Before the change run() never settled here (the test timed out): its finally waited for
        // a topic subscription that ends only when the term's signal aborts.
        await expect(controller.run(term.signal)).rejects.toThrow(/no_such_database/);
      } finally {
        term.abort();
        await db.$disconnect();
      }
    },
    20_000,
  );
});
