// The connection's status as the watchers will report it: `since` moves only
// when the state changes, an error stays (with its time) until a success
// clears it, and a disabled connection says so whatever it last saw.

import { randomBytes } from "node:crypto";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { createDb, createLiveBus, type Db, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretBox } from "../src/secrets.ts";
import { createCluster } from "../src/clusters/clusters.ts";
import { subscribeTopic } from "../src/live/topics.ts";
import {
  CLUSTER_CONNECTIONS_TOPIC,
  getClusterConnection,
  openClusterConnection,
  recordConnectionStatus,
  removeClusterConnection,
  saveClusterConnection,
  setClusterConnectionEnabled,
} from "../src/clusters/connection.ts";

let database: TestDatabase;
let db: Db;
let bus: LiveBus;
let sim: RunningSimCluster;
const secrets = createSecretBox(randomBytes(32));

beforeAll(async () => {
  [database, sim] = await Promise.all([createTestDatabase(), startSimCluster({ nodes: 1, kubelet: "fake" })]);
  db = createDb({ url: database.url, maxConnections: 2 });
  bus = await createLiveBus({ url: database.url });
  await createCluster({ db, secrets, id: "edge" });
});
afterAll(async () => {
  await bus?.close();
  await db?.$disconnect();
  await Promise.all([database?.stop(), sim?.stop()]);
});

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, seconds));

describe("recordConnectionStatus", () => {
  it("keeps since while the state holds, keeps the last error until a success clears it", async () => {
    await saveClusterConnection({
      db,
      bus,
      secrets,
      clusterId: "edge",
      kubeconfig: sim.kubeconfig(),
      now: () => at(0),
    });
    expect(await openClusterConnection({ db, secrets, clusterId: "edge" })).toMatchObject({ enabled: true });

    let view = await recordConnectionStatus({
      db,
      clusterId: "edge",
      state: "reachable",
      nodeCount: 4,
      at: at(5),
    });
    expect(view).toMatchObject({ state: "reachable", since: at(0), nodeCount: 4, checkedAt: at(5) });

    view = await recordConnectionStatus({
      db,
      clusterId: "edge",
      state: "unreachable",
      error: "unreachable: connection refused at https://10.0.0.1:6443",
      at: at(10),
    });
    expect(view).toMatchObject({ state: "unreachable", since: at(10), lastErrorAt: at(10), nodeCount: 4 });

    view = await recordConnectionStatus({ db, clusterId: "edge", state: "unreachable", at: at(20) });
    expect(view).toMatchObject({
      since: at(10),
      lastError: "unreachable: connection refused at https://10.0.0.1:6443",
    });

    view = await recordConnectionStatus({
      db,
      clusterId: "edge",
      state: "reachable",
      error: null,
      at: at(30),
    });
    expect(view).toMatchObject({ state: "reachable", since: at(30), lastError: null, lastErrorAt: null });
  });

  it("shows a disabled connection as disabled since it was disabled", async () => {
    await setClusterConnectionEnabled({ db, bus, clusterId: "edge", enabled: false, now: () => at(40) });
    await recordConnectionStatus({ db, clusterId: "edge", state: "reachable", at: at(45) });
    expect(await getClusterConnection({ db, clusterId: "edge" })).toMatchObject({
      state: "disabled",
      since: at(40),
    });
    const enabled = await setClusterConnectionEnabled({
      db,
      bus,
      clusterId: "edge",
      enabled: true,
      now: () => at(50),
    });
    expect(enabled).toMatchObject({ state: "reachable", since: at(50) });
  });

  it("announces every change of a connection on the live bus, once it is stored", async () => {
    await createCluster({ db, secrets, id: "announced" });
    const controller = new AbortController();
    const messages = subscribeTopic(bus, CLUSTER_CONNECTIONS_TOPIC, controller.signal)[
      Symbol.asyncIterator
    ]();
    /** The next announcement about the cluster, with what the database holds when it arrives. */
    const next = async () => {
      for (;;) {
        const { value } = await messages.next();
        if (value?.clusterId !== "announced") continue;
        const row = await db.clusterConnection.findUnique({ where: { clusterId: "announced" } });
        return { change: value.change, stored: row ? (row.enabled ? "enabled" : "disabled") : "none" };
      }
    };
    await saveClusterConnection({ db, bus, secrets, clusterId: "announced", kubeconfig: sim.kubeconfig() });
    expect(await next()).toEqual({ change: "saved", stored: "enabled" });
    await setClusterConnectionEnabled({ db, bus, clusterId: "announced", enabled: false });
    expect(await next()).toEqual({ change: "disabled", stored: "disabled" });
    await setClusterConnectionEnabled({ db, bus, clusterId: "announced", enabled: true });
    expect(await next()).toEqual({ change: "enabled", stored: "enabled" });
    await removeClusterConnection({ db, bus, clusterId: "announced" });
    expect(await next()).toEqual({ change: "removed", stored: "none" });
    controller.abort();
  });

  it("refuses an unknown cluster", async () => {
    await expect(
      recordConnectionStatus({ db, clusterId: "nowhere", state: "reachable" }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
