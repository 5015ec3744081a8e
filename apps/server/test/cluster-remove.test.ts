// Removing a cluster over REST (DELETE /api/v1/clusters/{id}): admin only,
// refused (and nothing changed) while a rollout, a debug level or a managed
// sensor holds it; otherwise its rows and inventory go, its agents are refused
// from then on, and the removal is audited with what it removed.
import { randomBytes } from "node:crypto";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import {
  encodeStatsReport,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  signRequest,
  type StatsReport,
} from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;
let operator: string;
let profileId: string;

type Json = Record<string, unknown>;
type Key = { clusterId: string; keyId: string; secret: string };

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({ name: "tapfleet-sensor", namespace: "tapfleet" });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  admin = (await t.userWithToken("admin")).token;
  operator = (await t.userWithToken("operator")).token;
  profileId = (
    await t.db.profile.create({
      data: { name: "held", createdByType: "system", createdByName: "test" },
      select: { id: true },
    })
  ).id;
}, 60_000);

afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

const rest = (method: string, path: string, token: string, body?: unknown) =>
  callRest<Json>(t.url, { method, path, token, body });

async function register(id: string): Promise<Key> {
  const created = await rest("POST", "/clusters", operator, { id });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  return created.json as unknown as Key;
}

let sequence = 1;
function sendReport(key: Key) {
  const report: StatsReport = {
    protocolVersion: PROTOCOL_VERSION,
    agent: {
      clusterId: key.clusterId,
      nodeName: "node-a",
      podName: "tapfleet-agent-x1",
      agentVersion: "0.1.0",
      configHash: "0123456789abcdef",
      startedAt: Date.now() - 60_000,
      sequence: sequence++,
    },
    sentAt: Date.now(),
    interfaces: [
      {
        name: "eth0",
        packets: 100,
        bytes: 64_000,
        kernelDrops: 0,
        interfaceDrops: 0,
        protocols: { ipv4: 100, ipv6: 0, tcp: 60, udp: 40, icmp: 0, other: 0 },
        topTalkers: [{ address: "10.0.0.7", packets: 50, bytes: 32_000 }],
      },
    ],
    upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
  };
  const body = Buffer.from(encodeStatsReport(report));
  const headers = signRequest({
    method: "POST",
    path: INGEST_PATHS.reports,
    body,
    keyId: key.keyId,
    key: key.secret,
    now: Date.now(),
    nonce: randomBytes(16).toString("base64url"),
  });
  return fetch(`${t.url}${INGEST_PATHS.reports}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: new Uint8Array(body),
  }).then(async (response) => ({
    status: response.status,
    body: (await response.json()) as { ok: boolean; reason?: string },
  }));
}

/** Every row Tapfleet keeps about the cluster, counted. */
async function rowsOf(clusterId: string) {
  const where = { clusterId };
  return {
    cluster: await t.db.cluster.count({ where: { id: clusterId } }),
    keys: await t.db.ingestKey.count({ where }),
    sensors: await t.db.sensor.count({ where }),
    reports: await t.db.sensorReport.count({ where }),
    connection: await t.db.clusterConnection.count({ where }),
    inventoryNodes: await t.db.inventoryCoverage.count({ where }),
    inventoryCluster: await t.db.inventoryCluster.count({ where }),
    install: await t.db.sensorInstall.count({ where }),
    debugLevel: await t.db.debugLevel.count({ where }),
  };
}

async function lastAuditOf(target: string) {
  const audit = await rest("GET", `/audit?action=clusters.remove`, admin);
  expect(audit.status, JSON.stringify(audit.json)).toBe(200);
  const items = (audit.json.items as Json[]).filter((item) => item.target === target);
  return items[0];
}

function installRow(clusterId: string) {
  return t.db.sensorInstall.create({
    data: {
      clusterId,
      revision: 1,
      namespace: "tapfleet",
      name: "tapfleet-sensor",
      image: "tapfleet/sensor:1",
      captureMode: "capabilities",
      networkPolicy: false,
      createdNamespace: true,
      settings: {},
      configHash: "0123456789abcdef",
      objects: [
        {
          apiVersion: "apps/v1",
          kind: "DaemonSet",
          name: "tapfleet-sensor",
          namespace: "tapfleet",
          uid: "u-1",
        },
      ],
      installedBy: "user test",
      installedAt: new Date(),
    },
  });
}

describe("DELETE /api/v1/clusters/{id}", () => {
  it("is for admins: an operator is refused with 403 and the cluster stays", async () => {
    await register("kept-from-operator");
    const refused = await rest("DELETE", "/clusters/kept-from-operator", operator);
    expect(refused.status).toBe(403);
    expect((await rowsOf("kept-from-operator")).cluster).toBe(1);
  });

  it("answers 404 for a cluster that does not exist, and 400 naming releaseSensor for a bad value", async () => {
    const missing = await rest("DELETE", "/clusters/never-there", admin);
    expect(missing.status).toBe(404);
    expect((missing.json.error as Json).message).toContain("never-there");
    await register("bad-flag");
    const bad = await rest("DELETE", "/clusters/bad-flag?releaseSensor=yes", admin);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("releaseSensor");
    expect((await rowsOf("bad-flag")).cluster).toBe(1);
  });

  it("refuses with 409 while a rollout is under way on the cluster, changing nothing, and audits the refusal", async () => {
    const key = await register("in-rollout");
    expect((await sendReport(key)).status).toBe(200);
    const rollout = await t.db.rollout.create({
      data: {
        profileId,
        revision: 1,
        strategy: {},
        status: "paused",
        reason: "held for the test",
        startedByType: "system",
        startedByName: "test",
        createdAt: new Date(),
        updatedAt: new Date(),
        clusters: {
          create: {
            clusterId: "in-rollout",
            position: 0,
            wave: 0,
            status: "pending",
            namespace: "tapfleet",
            daemonSetName: "tapfleet-sensor",
            updatedAt: new Date(),
          },
        },
      },
    });
    const before = await rowsOf("in-rollout");
    const refused = await rest("DELETE", "/clusters/in-rollout", admin);
    expect(refused.status).toBe(409);
    expect((refused.json.error as Json).message).toContain(rollout.id);
    expect((refused.json.error as Json).message).toContain("abort it");
    expect(await rowsOf("in-rollout")).toEqual(before);
    expect((await sendReport(key)).status).toBe(200);
    expect(await lastAuditOf("in-rollout")).toMatchObject({ outcome: "failure", errorCode: "CONFLICT" });

    // Once the rollout has ended, the cluster may go.
    await t.db.rollout.update({
      where: { id: rollout.id },
      data: { status: "aborted", finishedAt: new Date() },
    });
    expect((await rest("DELETE", "/clusters/in-rollout", admin)).status).toBe(200);
    // The rollout's history stays.
    expect(await t.db.rolloutCluster.count({ where: { rolloutId: rollout.id } })).toBe(1);
  });

  it("refuses with 409 while a debug level is set, changing nothing", async () => {
    await register("in-debug");
    await t.db.debugLevel.create({
      data: {
        clusterId: "in-debug",
        namespace: "tapfleet",
        daemonSetName: "tapfleet-sensor",
        container: "ossensor",
        level: 3,
        previousLevel: null,
        setAt: new Date(),
        setBy: "user test",
        revertsAt: new Date(Date.now() + 3_600_000),
        status: "active",
        updatedAt: new Date(),
      },
    });
    const before = await rowsOf("in-debug");
    const refused = await rest("DELETE", "/clusters/in-debug", admin);
    expect(refused.status).toBe(409);
    expect((refused.json.error as Json).message).toContain("debug level");
    expect((refused.json.error as Json).message).toContain("revert it");
    expect(await rowsOf("in-debug")).toEqual(before);
  });

  it("refuses with 409 while Tapfleet manages a sensor there, naming uninstall and release; releaseSensor=true releases it and removes", async () => {
    await register("managed");
    await installRow("managed");
    await t.db.sensorDrift.create({
      data: {
        clusterId: "managed",
        namespace: "tapfleet",
        daemonSetName: "tapfleet-sensor",
        tracked: "installed",
        state: "in-sync",
        since: new Date(),
        changes: [],
        checkedAt: new Date(),
      },
    });
    const before = await rowsOf("managed");
    const refused = await rest("DELETE", "/clusters/managed", admin);
    expect(refused.status).toBe(409);
    expect((refused.json.error as Json).message).toContain("DELETE /api/v1/clusters/managed/sensor");
    expect((refused.json.error as Json).message).toContain("POST /api/v1/clusters/managed/sensor/release");
    expect(await rowsOf("managed")).toEqual(before);

    const releasedFalse = await rest("DELETE", "/clusters/managed?releaseSensor=false", admin);
    expect(releasedFalse.status).toBe(409);

    const removed = await rest("DELETE", "/clusters/managed?releaseSensor=true", admin);
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json.releasedSensor).toEqual({
      origin: "installed",
      namespace: "tapfleet",
      name: "tapfleet-sensor",
      objects: [{ kind: "DaemonSet", name: "tapfleet-sensor", namespace: "tapfleet" }],
    });
    expect((await rowsOf("managed")).install).toBe(0);
    expect((await rowsOf("managed")).cluster).toBe(0);
    // The drift verdict references no row: it goes with the cluster explicitly (unless the
    // leader, told of the release, dropped it first).
    expect((removed.json.removed as Json).sensorDrifts).toBeOneOf([0, 1]);
    expect(await t.db.sensorDrift.count({ where: { clusterId: "managed" } })).toBe(0);
    expect(await lastAuditOf("managed")).toMatchObject({
      outcome: "success",
      changes: expect.arrayContaining([
        { field: "sensor", from: "installed tapfleet/tapfleet-sensor", to: "released" },
      ]),
    });
  });

  it("removes a connected, reporting cluster: its rows and inventory go, its agents are refused with 401, and it is audited", async () => {
    const key = await register("goner");
    const saved = await rest("PUT", "/clusters/goner/connection", operator, {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    await waitFor(() => rowsOf("goner"), {
      what: "the cluster's nodes in the inventory",
      timeoutMs: 15_000,
      until: (rows) => rows.inventoryNodes === 2,
    });
    expect((await sendReport(key)).status).toBe(200);
    expect((await sendReport(key)).status).toBe(200);
    const before = await rowsOf("goner");
    expect(before).toMatchObject({ cluster: 1, keys: 1, sensors: 1, reports: 2, connection: 1 });

    const removed = await rest("DELETE", "/clusters/goner", admin);
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json).toMatchObject({
      id: "goner",
      removed: { ingestKeys: 1, sensors: 1, reports: 2, inventoryNodes: 2 },
    });
    expect(await rowsOf("goner")).toEqual({
      cluster: 0,
      keys: 0,
      sensors: 0,
      reports: 0,
      connection: 0,
      inventoryNodes: 0,
      inventoryCluster: 0,
      install: 0,
      debugLevel: 0,
    });
    expect((await rest("GET", "/clusters/goner", admin)).status).toBe(404);
    const nodes = await rest("GET", "/nodes", admin);
    expect(JSON.stringify(nodes.json)).not.toContain('"goner"');

    // The server hears of the removal on the live bus a moment later; until then the database
    // refuses the write (403 unknown_cluster). Never accepted, never a 500.
    const answers: { status: number; reason?: string | undefined }[] = [];
    const refused = await waitFor(() => sendReport(key), {
      what: "the removed cluster's key to be refused",
      // Shorter than the key cache (5 s): the key is forgotten because the removal says so.
      timeoutMs: 3_000,
      until: (answer) => {
        answers.push({ status: answer.status, reason: answer.body.reason });
        return answer.status === 401;
      },
    });
    expect(refused.body).toMatchObject({ ok: false, reason: "unknown_key" });
    for (const answer of answers.slice(0, -1))
      expect(answer).toEqual({ status: 403, reason: "unknown_cluster" });
    expect((await rowsOf("goner")).reports).toBe(0);

    const event = await lastAuditOf("goner");
    expect(event).toMatchObject({ outcome: "success", target: "goner" });
    expect(event?.changes).toEqual(
      expect.arrayContaining([
        { field: "reports", from: 2, to: 0 },
        { field: "ingestKeys", from: 1, to: 0 },
        { field: "inventoryNodes", from: 2, to: 0 },
      ]),
    );
  });

  it("is in the OpenAPI document as DELETE /clusters/{id} with its releaseSensor parameter", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    };
    const operation = document.paths["/clusters/{id}"]?.delete;
    expect(operation).toBeDefined();
    expect(operation?.parameters?.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(["id", "releaseSensor"]),
    );
  });
});
