// Debug levels over real HTTP against a simulated cluster (fake kubelet)
// connected through the stored connection: the leader patches the DaemonSet,
// the pods roll, and the previous value comes back by itself — also when the
// server is replaced by a new one on the same database before the time is up.
import { removeCluster } from "@tapfleet/core";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { readSse } from "./sse.ts";

let t: TestServer;
let sim: RunningSimCluster;
let operator: string;
let viewer: string;
let baseUrl: string;
let replacement: RunningServer | undefined;

type Json = Record<string, unknown>;

function sensorDaemonSet(options: { name: string; namespace: string; debug?: string }) {
  const daemonSet = daemonSetFixture({
    name: options.name,
    namespace: options.namespace,
    containerName: "ossensor",
    env: [
      { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
      ...(options.debug === undefined ? [] : [{ name: "OSSENSOR_DEBUG", value: options.debug }]),
      { name: "NETWORK_DEVICE_ANY", value: "1" },
    ],
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  return daemonSet;
}

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 3, kubelet: "fake" })]);
  baseUrl = t.url;
  for (const name of ["tapfleet", "other"])
    sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  sim.store.create("daemonsets.apps", sensorDaemonSet({ name: "sensor", namespace: "tapfleet", debug: "2" }));
  operator = (await t.userWithToken("operator")).token;
  viewer = (await t.userWithToken("viewer")).token;
  expect((await rest("POST", "/clusters", { id: "edge" })).status).toBe(200);
  expect((await rest("POST", "/clusters", { id: "unconnected" })).status).toBe(200);
  const saved = await rest("PUT", "/clusters/edge/connection", {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
}, 60_000);

afterAll(async () => {
  await replacement?.stop();
  await Promise.all([t?.stop(), sim?.stop()]);
});

const rest = (method: string, path: string, body?: unknown, token = operator) =>
  callRest<Json>(baseUrl, { method, path, body, token });

/** OSSENSOR_DEBUG in the DaemonSet's template (null: absent), and in each of its pods. */
function debugInCluster(namespace: string, name: string) {
  const envOf = (spec: unknown) => {
    const containers = (spec as { containers: { name: string; env?: { name: string; value?: string }[] }[] })
      .containers;
    const container = containers.find((c) => c.name === "ossensor");
    return container?.env?.find((e) => e.name === "OSSENSOR_DEBUG")?.value ?? null;
  };
  const daemonSet = sim.store.get("daemonsets.apps", namespace, name) as unknown as {
    spec: { template: { spec: unknown } };
  };
  const pods = sim.store
    .list("pods", { namespace })
    .items.filter((pod) => pod.metadata.name?.startsWith(`${name}-`) && !pod.metadata.deletionTimestamp)
    .map((pod) => ({
      value: envOf(pod.spec),
      ready: (
        (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
      ).some((c) => c.type === "Ready" && c.status === "True"),
    }));
  return { template: envOf(daemonSet.spec.template.spec), pods };
}

const rolledTo = (namespace: string, name: string, value: string | null) => {
  const seen = debugInCluster(namespace, name);
  return (
    seen.template === value && seen.pods.length === 3 && seen.pods.every((p) => p.value === value && p.ready)
  );
};

async function waitForStatus(clusterId: string, status: string, timeoutMs = 20_000) {
  await waitFor(() => rest("GET", `/clusters/${clusterId}/debug-level`), {
    what: `the debug level of ${clusterId} to be ${status}`,
    timeoutMs,
    until: (answer) => answer.json.status === status,
  });
  // The cluster's own answer carries it too.
  return rest("GET", `/clusters/${clusterId}`);
}

describe("debug level: refusals", () => {
  it.each([
    [{ level: 6, minutes: 30 }, "level", "between 0 and 5"],
    [{ level: -1, minutes: 30 }, "level", "between 0 and 5"],
    [{ level: 2.5, minutes: 30 }, "level", "whole number"],
    [{ level: 3, minutes: 0 }, "minutes", "between 1 and 1440 minutes"],
    [{ level: 3, minutes: 1441 }, "minutes", "between 1 and 1440 minutes"],
    [{ level: 3 }, "minutes", "must be a number"],
  ])("%j is refused at its field, and nothing changes", async (body, field, text) => {
    const answer = await rest("POST", "/clusters/edge/debug-level", body);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toContain(field);
    expect(JSON.stringify(answer.json)).toContain(text);
    expect(debugInCluster("tapfleet", "sensor").template).toBe("2");
    expect((await rest("GET", "/clusters/edge")).json.debugLevel).toBeNull();
  });

  it("a viewer may not set one (403), and the refusal is audited", async () => {
    const answer = await rest("POST", "/clusters/edge/debug-level", { level: 3, minutes: 5 }, viewer);
    expect(answer.status).toBe(403);
    const event = await t.db.auditEvent.findFirst({
      where: { action: "debugLevel.set", outcome: "failure" },
      orderBy: { id: "desc" },
    });
    expect(event?.errorCode).toBe("FORBIDDEN");
    expect((await rest("GET", "/clusters/edge")).json.debugLevel).toBeNull();
  });

  it("a cluster without a connection is a 409, an unknown one a 404", async () => {
    const unconnected = await rest("POST", "/clusters/unconnected/debug-level", { level: 3, minutes: 5 });
    expect(unconnected.status).toBe(409);
    expect(JSON.stringify(unconnected.json)).toContain("no Kubernetes connection");
    expect((await rest("POST", "/clusters/nowhere/debug-level", { level: 3, minutes: 5 })).status).toBe(404);
  });

  it("nothing to revert is a 409", async () => {
    expect((await rest("POST", "/clusters/edge/debug-level/revert", {})).status).toBe(409);
  });
});

describe("debug level: set, roll, revert", () => {
  it("sets level 4: the template and every pod carry it; revert now puts 2 back", async () => {
    const set = await rest("POST", "/clusters/edge/debug-level", { level: 4, minutes: 30 });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    expect(set.json).toMatchObject({
      level: 4,
      previousLevel: 2,
      status: "applying",
      daemonSet: { namespace: "tapfleet", name: "sensor" },
      container: "ossensor",
    });
    const revertsAt = Date.parse(String(set.json.revertsAt));
    expect(revertsAt - Date.parse(String(set.json.setAt))).toBe(30 * 60_000);

    const active = await waitForStatus("edge", "active");
    expect(active.json.debugLevel).toEqual({
      level: 4,
      previousLevel: 2,
      status: "active",
      revertsAt: new Date(revertsAt).toISOString(),
    });
    // "active" means rolled out: every pod runs with the new level.
    expect(rolledTo("tapfleet", "sensor", "4")).toBe(true);

    // A second request replaces the first and keeps the value from before the first.
    const again = await rest("POST", "/clusters/edge/debug-level", { level: 5, minutes: 10 });
    expect(again.json).toMatchObject({ level: 5, previousLevel: 2, status: "applying" });
    await waitForStatus("edge", "active");
    expect(rolledTo("tapfleet", "sensor", "5")).toBe(true);

    const reverted = await rest("POST", "/clusters/edge/debug-level/revert", {});
    expect(reverted.status).toBe(200);
    await waitForStatus("edge", "reverted");
    expect(rolledTo("tapfleet", "sensor", "2")).toBe(true);

    const events = await t.db.auditEvent.findMany({
      where: { action: { in: ["debugLevel.set", "debugLevel.revert"] }, outcome: "success" },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.action)).toEqual(["debugLevel.set", "debugLevel.set", "debugLevel.revert"]);
    expect(events[0]!.target).toBe("edge");
  }, 60_000);

  it("the live stream's debugLevel.live carries each step of the level to a viewer, for its own cluster only", async () => {
    const open = async (clusterId: string) => {
      const controller = new AbortController();
      const input = { feeds: [{ key: "level", path: "debugLevel.live", input: { id: clusterId } }] };
      const response = await fetch(
        `${baseUrl}/trpc/live.stream?input=${encodeURIComponent(JSON.stringify(input))}`,
        {
          headers: { authorization: `Bearer ${viewer}`, accept: "text/event-stream" },
          signal: controller.signal,
        },
      );
      expect(response.status).toBe(200);
      return { reader: readSse(response), close: () => controller.abort() };
    };
    type Message = { type: string; feed?: string; data?: { clusterId: string; debugLevel: Json | null } };
    const statuses = (messages: Message[]) =>
      messages.filter((m) => m.type === "data").map((m) => m.data?.debugLevel?.status);
    const edge = await open("edge");
    const elsewhere = await open("unconnected");
    await edge.reader.readUntil<Message>((m) => m.some((x) => x.type === "started"), 10_000);
    await elsewhere.reader.readUntil<Message>((m) => m.some((x) => x.type === "started"), 10_000);

    expect((await rest("POST", "/clusters/edge/debug-level", { level: 3, minutes: 30 })).status).toBe(200);
    const applied = await edge.reader.readUntil<Message>((m) => statuses(m).includes("active"), 20_000);
    expect(statuses(applied)[0]).toBe("applying");
    const active = applied.find((m) => m.data?.debugLevel?.status === "active")!;
    expect(active.data).toMatchObject({ clusterId: "edge", debugLevel: { level: 3, previousLevel: 2 } });

    expect((await rest("POST", "/clusters/edge/debug-level/revert", {})).status).toBe(200);
    const reverted = await edge.reader.readUntil<Message>((m) => statuses(m).includes("reverted"), 20_000);
    expect(statuses(reverted)).toContain("reverting");
    expect(rolledTo("tapfleet", "sensor", "2")).toBe(true);

    // The other cluster's feed carried none of it (its events went out before edge's "reverted").
    await expect(
      elsewhere.reader.readUntil<Message>((m) => m.some((x) => x.type === "data"), 500),
    ).rejects.toThrow("no matching events");
    edge.close();
    elsewhere.close();
  }, 60_000);

  it("with two sensor DaemonSets the request must name one (400 at daemonSet)", async () => {
    sim.store.create("daemonsets.apps", sensorDaemonSet({ name: "second", namespace: "other" }));
    const refused = await rest("POST", "/clusters/edge/debug-level", { level: 3, minutes: 1 });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain("daemonSet");
    expect(JSON.stringify(refused.json)).toContain("other/second");
    const unknown = await rest("POST", "/clusters/edge/debug-level", {
      level: 3,
      minutes: 1,
      daemonSet: { namespace: "other", name: "third" },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain("no sensor DaemonSet other/third");
    expect(debugInCluster("other", "second").template).toBeNull();
  });

  it("set for one minute on a DaemonSet without the variable: reverts by itself (removes it), across a server restart", async () => {
    const set = await rest("POST", "/clusters/edge/debug-level", {
      level: 3,
      minutes: 1,
      daemonSet: { namespace: "other", name: "second" },
    });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    expect(set.json).toMatchObject({ level: 3, previousLevel: null });
    await waitForStatus("edge", "active");
    expect(rolledTo("other", "second", "3")).toBe(true);

    // The server goes away before the time is up; a new one on the same database takes over.
    await t.server.stop();
    const env = loadServerEnv({
      DATABASE_URL: t.database.url,
      PORT: "0",
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    });
    replacement = await startServer({ env, logger: createLogger(env.LOG_LEVEL), announce: () => undefined });
    baseUrl = replacement.url;

    const revertsAt = Date.parse(String(set.json.revertsAt));
    const reverted = await waitForStatus("edge", "reverted", 90_000);
    expect(Date.now()).toBeGreaterThanOrEqual(revertsAt);
    expect(reverted.json.debugLevel).toMatchObject({ level: 3, previousLevel: null });
    expect(rolledTo("other", "second", null)).toBe(true);
    // The other DaemonSet was never touched.
    expect(debugInCluster("tapfleet", "sensor").template).toBe("2");
  }, 120_000);
});

describe("debug level: its cluster or connection goes away", () => {
  let other: RunningSimCluster;
  const template = () => {
    const daemonSet = other.store.get("daemonsets.apps", "tapfleet", "sensor") as unknown as {
      spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
    };
    return daemonSet.spec.template.spec.containers[0]?.env?.find((e) => e.name === "OSSENSOR_DEBUG")?.value;
  };

  // A cluster of its own for each case, its sensor DaemonSet at level 1.
  beforeEach(async () => {
    other = await startSimCluster({ nodes: 1, kubelet: "fake", name: "short-lived" });
    other.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
    other.store.create(
      "daemonsets.apps",
      sensorDaemonSet({ name: "sensor", namespace: "tapfleet", debug: "1" }),
    );
  });
  afterEach(async () => {
    await other?.stop();
  });

  async function connectWithLevel(clusterId: string) {
    expect((await rest("POST", "/clusters", { id: clusterId })).status).toBe(200);
    const saved = await rest("PUT", `/clusters/${clusterId}/connection`, {
      kubeconfig: other.kubeconfig(),
      context: other.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const set = await rest("POST", `/clusters/${clusterId}/debug-level`, { level: 4, minutes: 30 });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    await waitForStatus(clusterId, "active");
    expect(template()).toBe("4");
  }

  it("removing the cluster removes its debug level: no orphan row, and a new cluster of that name starts without one", async () => {
    await connectWithLevel("short-lived");
    expect(await removeCluster({ db: t.db, bus: t.bus, clusterId: "short-lived" })).toBe(true);
    expect(await t.db.debugLevel.findUnique({ where: { clusterId: "short-lived" } })).toBeNull();

    expect((await rest("POST", "/clusters", { id: "short-lived" })).status).toBe(200);
    const again = await rest("GET", "/clusters/short-lived/debug-level");
    expect(again.status).toBe(200);
    expect(again.json).toBeNull();
    expect((await rest("GET", "/clusters/short-lived")).json.debugLevel).toBeNull();
    // Nothing was put back: Tapfleet forgot the cluster, which keeps the level it was given.
    expect(template()).toBe("4");
    expect(await removeCluster({ db: t.db, bus: t.bus, clusterId: "short-lived" })).toBe(true);
  }, 60_000);

  it("removing the connection ends the debug level at once, saying the level stays in the cluster", async () => {
    await connectWithLevel("disconnected");
    expect((await rest("DELETE", "/clusters/disconnected/connection")).status).toBe(200);

    const ended = await rest("GET", "/clusters/disconnected/debug-level");
    expect(ended.json).toMatchObject({ level: 4, previousLevel: 1, status: "failed" });
    expect(String(ended.json.lastError)).toContain("connection was removed");
    expect(String(ended.json.lastError)).toContain("OSSENSOR_DEBUG stays at 4 on tapfleet/sensor");
    expect((await rest("GET", "/clusters/disconnected")).json.debugLevel).toMatchObject({ status: "failed" });
    // Nothing left for the leader, and nothing to revert by hand.
    expect((await rest("POST", "/clusters/disconnected/debug-level/revert", {})).status).toBe(409);
    expect(template()).toBe("4");
  }, 60_000);
});
