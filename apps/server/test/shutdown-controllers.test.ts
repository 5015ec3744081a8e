// Shutdown with the leader's controllers busy: a server whose connected
// clusters answer their lists slowly, whose drift round is under way, or whose
// drift check waits for a cluster's answer must still stop its controllers at
// once (a rolling restart waits for it), abandoning the requests under way.
import { Writable } from "node:stream";
import {
  publishTopic,
  SENSOR_DRIFT_TOPIC,
  TRACKED_DAEMONSETS_TOPIC,
  type ClusterConnection,
} from "@tapfleet/core";
import { createDb, createLiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import {
  createSimCluster,
  kubeconfigFor,
  startApiServer,
  startSimCluster,
  type ApiServer,
  type SimCluster,
} from "@tapfleet/kube-sim";
import pino from "pino";
import { stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { LIST_CONCURRENCY } from "../src/controllers/inventory.ts";
import { loadServerEnv } from "../src/env.ts";
import { startServer } from "../src/start.ts";
import { ADMIN_PASSWORD, startTestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

const TOKEN = "shutdown-test-token";
const CLUSTERS = 5;
let database: TestDatabase;
const clusters: { cluster: SimCluster; api: ApiServer }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < CLUSTERS; i++) {
    const cluster = createSimCluster({ nodes: 3 });
    const api = await startApiServer({ store: cluster.store, token: TOKEN });
    clusters.push({ cluster, api });
  }
}, 60_000);

afterAll(async () => {
  for (const { cluster, api } of clusters) {
    await api.close();
    await cluster.stop();
  }
  await database?.stop();
});

describe("stopping the server while its clusters answer slowly", () => {
  it("stops the controllers within a few seconds and abandons the lists under way", async () => {
    const connections: ClusterConnection[] = clusters.map(({ api }, i) => {
      const kubeconfig = toYaml(
        kubeconfigFor([{ name: "sim", url: api.url, token: TOKEN, caCertificate: api.caCertificate }]),
      );
      return { clusterId: `slow-${i}`, context: "sim", kubeconfig };
    });
    // Every list takes a minute: the watches are all stuck in their first list when the server stops.
    const recording = clusters.map(({ api }) => api.requestLog.record());
    for (const { api } of clusters) api.faults.setLatency({ ms: 60_000, verbs: ["list"] });

    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    const env = loadServerEnv({
      DATABASE_URL: database.url,
      PORT: "0",
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: "info",
    });
    const server = await startServer({
      env,
      logger,
      announce: () => undefined,
      inventory: { connections: { listClusterConnections: () => Promise.resolve(connections) } },
    });
    // As many lists as the inventory reads at once have reached the clusters' API servers (the
    // others wait for a slot): every slot is held by a list that will not answer for a minute.
    await waitFor(
      () =>
        recording.reduce(
          (lists, { requests }) =>
            lists + requests.filter((r) => !r.watch && r.path.startsWith("/api")).length,
          0,
        ) >= LIST_CONCURRENCY,
      { until: Boolean, timeoutMs: 20_000, what: "the clusters' lists under way" },
    );

    // The drift controller's reconcile round is under way (held on a table lock) when the stop comes.
    const db = createDb({ url: database.url, maxConnections: 2 });
    const bus = await createLiveBus({ url: database.url });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const locked = new Promise<void>((resolve, reject) => {
      db.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE "SensorInstall" IN ACCESS EXCLUSIVE MODE');
          resolve();
          await released;
        },
        { timeout: 60_000 },
      ).catch(reject);
    });
    await locked;
    await publishTopic(bus, TRACKED_DAEMONSETS_TOPIC, { clusterId: "slow-0", change: "record-changed" });
    await waitFor(
      () =>
        db.$queryRawUnsafe<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '"SensorInstall"'::regclass`,
        ),
      { until: (rows) => rows[0]!.n > 0, timeoutMs: 20_000, what: "the drift round waiting on the lock" },
    );

    const startedAt = performance.now();
    // The controllers are told to stop at once (the first shutdown step), then the round goes on.
    const stopped = server.stop();
    release();
    await stopped;
    const tookMs = performance.now() - startedAt;
    await bus.close();
    await db.$disconnect();

    expect(lines.filter((line) => line.includes("did not finish"))).toEqual([]);
    expect(tookMs).toBeLessThan(5_000);
  }, 60_000);

  it("abandons a drift check whose read of the DaemonSet gets no answer", async () => {
    const [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
    try {
      const admin = (await t.userWithToken("admin")).token;
      const rest = (method: string, route: string, body?: unknown) =>
        callRest(t.url, { method, path: route, token: admin, body });
      expect((await rest("POST", "/clusters", { id: "slow-drift" })).status).toBe(200);
      const saved = await rest("PUT", "/clusters/slow-drift/connection", {
        kubeconfig: sim.kubeconfig(),
        context: sim.name,
      });
      expect(saved.status, JSON.stringify(saved.json)).toBe(200);
      const installed = await rest("POST", "/clusters/slow-drift/sensor", {
        settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
        image: "tapfleet/agent:1.0.0",
        captureMode: "capabilities",
      });
      expect(installed.status, JSON.stringify(installed.json)).toBe(200);
      await waitFor(() => t.db.sensorDrift.count({ where: { clusterId: "slow-drift" } }), {
        until: (count) => count > 0,
        timeoutMs: 20_000,
        what: "the first drift verdict",
      });

      // From now on a read of the DaemonSet takes a minute; a check is asked for and reaches the API.
      const recording = sim.requestLog.record();
      sim.faults.setLatency({ ms: 60_000, verbs: ["get"], resource: "daemonsets.apps" });
      await publishTopic(t.bus, SENSOR_DRIFT_TOPIC, { type: "check", clusterId: "slow-drift" });
      await waitFor(
        () =>
          recording.requests.some(
            (r) => !r.watch && r.path.startsWith("/apis/apps/v1/namespaces/tapfleet-sensor/daemonsets/"),
          ),
        { until: Boolean, timeoutMs: 20_000, what: "the drift check's read of the DaemonSet" },
      );

      const startedAt = performance.now();
      await t.server.stop();
      expect(performance.now() - startedAt).toBeLessThan(5_000);
    } finally {
      sim.faults.clear();
      await Promise.all([t.stop(), sim.stop()]);
    }
  }, 90_000);
});
