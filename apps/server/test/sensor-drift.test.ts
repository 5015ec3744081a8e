// Drift of an installed sensor DaemonSet, against a simulated cluster reached
// through the stored connection: the real kubectl changes the DaemonSet, the
// leader's watch flags it within seconds (awaited on the live topic, no
// sleeps), restore puts the template back, adopt keeps the change as a new
// profile revision without redeploying.

import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { publishTopic, ROLLOUTS_TOPIC, TRACKED_DAEMONSETS_TOPIC } from "@tapfleet/core";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { openDriftLive } from "./drift-live.ts";
import type { SseReader } from "./sse.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { kubectl as runKubectl, setSensorEnv } from "./kubectl.ts";

let t: TestServer;
let sim: RunningSimCluster;
let found: RunningSimCluster;
let admin: string;
let operator: string;
let viewer: string;
let live: SseReader;
const liveAbort = new AbortController();

const INSTALL = {
  settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
  image: "tapfleet/agent:1.0.0",
  captureMode: "capabilities",
};

interface Change {
  kind: string;
  name: string;
  variable: string | null;
  applied: string | null;
  observed: string | null;
}
interface Drift {
  daemonSet: { namespace: string; name: string };
  tracked: string;
  state: string;
  since: string;
  changes: Change[];
}
type Json = Record<string, unknown>;

beforeAll(async () => {
  [t, sim, found] = await Promise.all([
    startTestServer(),
    startSimCluster({ nodes: 2, kubelet: "fake" }),
    startSimCluster({ nodes: 1, kubelet: "fake" }),
  ]);
  admin = (await t.userWithToken("admin")).token;
  operator = (await t.userWithToken("operator")).token;
  viewer = (await t.userWithToken("viewer")).token;
});
afterAll(async () => {
  liveAbort.abort();
  await Promise.all([t?.stop(), sim?.stop(), found?.stop()]);
});

const rest = (token: string, method: string, route: string, body?: unknown) =>
  callRest<Json>(t.url, { method, path: route, token, body });

const kubectl = (...args: string[]) => runKubectl(sim, ...args);

function captureEnv(): Record<string, string | undefined> {
  const daemonSet = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor") as unknown as {
    spec: {
      template: {
        spec: { containers: Array<{ name: string; env: Array<{ name: string; value?: string }> }> };
      };
    };
  };
  const capture = daemonSet.spec.template.spec.containers.find((c) => c.name === "capture")!;
  return Object.fromEntries(capture.env.map((entry) => [entry.name, entry.value]));
}

const generation = () =>
  sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")!.metadata.generation as number;

/** Waits for the leader's next verdict on the live topic that `accept` takes. */
async function nextVerdict(accept: (drift: Drift) => boolean, timeoutMs = 10_000): Promise<Drift> {
  let found: Drift | undefined;
  await live.readUntil<{ drifts: Drift[] }>((messages) => {
    for (const message of messages.splice(0)) {
      const drift = message.drifts[0];
      if (drift && accept(drift)) found = drift;
    }
    return found !== undefined;
  }, timeoutMs);
  return found!;
}

describe("drift of an installed sensor", () => {
  it("starts in sync once installed, and the live topic says so", async () => {
    expect((await rest(admin, "POST", "/clusters", { id: "drift" })).status).toBe(200);
    const saved = await rest(admin, "PUT", "/clusters/drift/connection", {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    live = await openDriftLive({
      url: t.url,
      bus: t.bus,
      token: viewer,
      clusterId: "drift",
      signal: liveAbort.signal,
    });

    const installed = await rest(admin, "POST", "/clusters/drift/sensor", INSTALL);
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    expect(installed.json).toMatchObject({ drift: [], driftChanges: [] });
    const verdict = await nextVerdict((drift) => drift.state === "in-sync");
    expect(verdict).toMatchObject({
      daemonSet: { namespace: "tapfleet-sensor", name: "tapfleet-sensor" },
      tracked: "installed",
      changes: [],
    });
  });

  it("flags kubectl set env within seconds, naming the setting, what was applied and what is there", async () => {
    const started = Date.now();
    await setSensorEnv(sim, "OSSENSOR_DEBUG=4");
    const applied = Date.now();
    const verdict = await nextVerdict((drift) => drift.state === "drifted");
    console.log("DRIFT-TIMING kubectl", applied - started, "verdict", Date.now() - applied);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(verdict.changes).toEqual([
      expect.objectContaining({
        kind: "setting",
        name: "debugLevel",
        variable: "OSSENSOR_DEBUG",
        applied: null,
        observed: "4",
      }),
    ]);

    const drift = await rest(viewer, "GET", "/clusters/drift/sensor/drift");
    expect(drift.status).toBe(200);
    expect(drift.json.drifts).toEqual([expect.objectContaining({ state: "drifted", since: verdict.since })]);
    const status = await rest(viewer, "GET", "/clusters/drift/sensor");
    expect(status.json).toMatchObject({
      driftChanges: [expect.objectContaining({ variable: "OSSENSOR_DEBUG", observed: "4" })],
      driftSince: verdict.since,
    });
    expect(status.json.drift).toEqual([expect.stringContaining("OSSENSOR_DEBUG")]);
  });

  it("restores for an operator (not a viewer): the template is back and the flag clears", async () => {
    const refused = await rest(viewer, "POST", "/clusters/drift/sensor/drift/restore", {});
    expect(refused.status).toBe(403);
    expect(captureEnv().OSSENSOR_DEBUG).toBe("4");

    const restored = await rest(operator, "POST", "/clusters/drift/sensor/drift/restore", {});
    expect(restored.status, JSON.stringify(restored.json)).toBe(200);
    expect(restored.json.restored).toEqual([expect.objectContaining({ variable: "OSSENSOR_DEBUG" })]);
    expect(restored.json.drifts).toEqual([expect.objectContaining({ state: "in-sync", changes: [] })]);
    expect(captureEnv()).not.toHaveProperty("OSSENSOR_DEBUG");
    expect(captureEnv().VSENSOR_PORT).toBe("8443");

    const again = await rest(operator, "POST", "/clusters/drift/sensor/drift/restore", {});
    expect(again.status).toBe(409);
    expect(JSON.stringify(again.json)).toContain("no drift");

    const audit = await t.db.auditEvent.findFirst({
      where: { action: "sensorDrift.restore", outcome: "success" },
      orderBy: { at: "desc" },
    });
    expect(audit?.changes).toEqual([{ field: "OSSENSOR_DEBUG", from: "4", to: null }]);
  });

  it("flags kubectl set image too", async () => {
    await kubectl(
      "set",
      "image",
      "ds/tapfleet-sensor",
      "-n",
      "tapfleet-sensor",
      "capture=tapfleet/agent:1.0.1",
    );
    const verdict = await nextVerdict((drift) => drift.state === "drifted");
    expect(verdict.changes).toEqual([
      expect.objectContaining({
        kind: "image",
        applied: "tapfleet/agent:1.0.0",
        observed: "tapfleet/agent:1.0.1",
      }),
    ]);
    expect((await rest(operator, "POST", "/clusters/drift/sensor/drift/restore", {})).status).toBe(200);
    await nextVerdict((drift) => drift.state === "in-sync");
  });

  it("adopts the drift for an admin as a new profile revision in force, without redeploying", async () => {
    await setSensorEnv(sim, "VSENSOR_PORT=9443");
    const verdict = await nextVerdict((drift) => drift.state === "drifted");
    expect(verdict.changes).toEqual([
      expect.objectContaining({ name: "collectorPort", applied: "8443", observed: "9443" }),
    ]);
    const before = generation();

    const body = { message: "keep the port the on-call engineer set" };
    expect((await rest(operator, "POST", "/clusters/drift/sensor/drift/adopt", body)).status).toBe(403);
    const unnamed = await rest(admin, "POST", "/clusters/drift/sensor/drift/adopt", body);
    expect(unnamed.status).toBe(400);
    expect(JSON.stringify(unnamed.json)).toContain("profileName");
    expect(await t.db.profile.count()).toBe(0);

    const adopted = await rest(admin, "POST", "/clusters/drift/sensor/drift/adopt", {
      ...body,
      profileName: "drift-sensor",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    expect(adopted.json).toMatchObject({
      profile: { name: "drift-sensor", revision: 1 },
      drifts: [expect.objectContaining({ state: "in-sync" })],
    });
    expect(generation()).toBe(before);
    expect(captureEnv().VSENSOR_PORT).toBe("9443");
    const status = await rest(viewer, "GET", "/clusters/drift/sensor");
    expect(status.json).toMatchObject({
      profile: { name: "drift-sensor", revision: 1 },
      drift: [],
      driftChanges: [],
      driftSince: null,
    });

    // With a profile in force, the next adopt is that profile's next revision. The cluster overrides
    // OSSENSOR_DEBUG: that setting stays the override's, and the revision keeps the profile's own.
    const profileId = (adopted.json.profile as { id: string }).id;
    const override = await rest(admin, "PUT", `/profiles/${profileId}/overrides/drift`, {
      settings: { debugLevel: 3 },
    });
    expect(override.status, JSON.stringify(override.json)).toBe(200);
    const setDebug = (value: string, ...more: string[]) => setSensorEnv(sim, value, ...more);
    await setDebug("OSSENSOR_DEBUG=5");
    await nextVerdict((drift) => drift.state === "drifted");
    const overridden = await rest(admin, "POST", "/clusters/drift/sensor/drift/adopt", { message: "five" });
    expect(overridden.status).toBe(409);
    expect(JSON.stringify(overridden.json)).toContain("OSSENSOR_DEBUG is overridden");
    expect(await t.db.profileRevision.count({ where: { profileId } })).toBe(1);

    await setDebug("OSSENSOR_DEBUG=3", "NETWORK_DEVICE_ANY=1");
    await nextVerdict(
      (drift) => drift.state === "drifted" && drift.changes.some((c) => c.variable === "NETWORK_DEVICE_ANY"),
    );
    const second = await rest(admin, "POST", "/clusters/drift/sensor/drift/adopt", {
      message: "capture new interfaces",
    });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect(second.json).toMatchObject({
      profile: { name: "drift-sensor", revision: 2 },
      drifts: [expect.objectContaining({ state: "in-sync" })],
    });
    const revision = await rest(viewer, "GET", `/profiles/${profileId}`);
    expect(JSON.stringify(revision.json)).toContain("capture new interfaces");
    const stored = await t.db.profileRevision.findUnique({
      where: { profileId_number: { profileId, number: 2 } },
    });
    expect(stored?.settings).toEqual({
      collectorHost: "collector.example.com",
      collectorPort: 9443,
      captureNewDevices: true,
    });
    const install = await t.db.sensorInstall.findUniqueOrThrow({ where: { clusterId: "drift" } });
    expect(install.settings).toMatchObject({ debugLevel: 3, captureNewDevices: true });
  });

  it("does not judge a DaemonSet while a rollout changes it, and judges it again once the rollout ends", async () => {
    const profile = await t.db.profile.findUniqueOrThrow({ where: { name: "drift-sensor" } });
    const at = new Date();
    const rollout = await t.db.rollout.create({
      data: {
        profileId: profile.id,
        revision: 2,
        strategy: {},
        status: "running",
        startedByType: "user",
        startedByName: "test",
        createdAt: at,
        updatedAt: at,
      },
    });
    await t.db.rolloutCluster.create({
      data: {
        rolloutId: rollout.id,
        clusterId: "drift",
        position: 0,
        wave: 0,
        status: "applying",
        namespace: "tapfleet-sensor",
        daemonSetName: "tapfleet-sensor",
        updatedAt: at,
      },
    });
    // The leader hears of the start as of any change to what it expects (the rollouts topic
    // the runner announces it on would also set the runner onto this hand-made rollout).
    await publishTopic(t.bus, TRACKED_DAEMONSETS_TOPIC, { clusterId: "drift", change: "record-changed" });
    await setSensorEnv(sim, "OSSENSOR_DEBUG=2");
    // The rollout's own change is not drift: nothing to restore (and a restore cannot undo the rollout).
    const refused = await rest(operator, "POST", "/clusters/drift/sensor/drift/restore", {});
    expect(refused.status).toBe(409);
    expect((await rest(viewer, "GET", "/clusters/drift/sensor")).json).toMatchObject({ driftChanges: [] });

    await t.db.rolloutCluster.updateMany({ where: { rolloutId: rollout.id }, data: { status: "failed" } });
    // Announced as the rollout runner announces each step it records.
    await publishTopic(t.bus, ROLLOUTS_TOPIC, { rolloutId: rollout.id, status: "failed" });
    const verdict = await nextVerdict((drift) => drift.state === "drifted");
    expect(verdict.changes).toEqual([expect.objectContaining({ variable: "OSSENSOR_DEBUG", observed: "2" })]);
    expect((await rest(operator, "POST", "/clusters/drift/sensor/drift/restore", {})).status).toBe(200);
  });
});

describe("drift of a DaemonSet Tapfleet only set a debug level on", () => {
  const debugEnv = () => {
    const daemonSet = found.store.get("daemonsets.apps", "monitoring", "ossensor") as unknown as {
      spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } };
    };
    return daemonSet.spec.template.spec.containers[0]!.env.find((entry) => entry.name === "OSSENSOR_DEBUG")
      ?.value;
  };

  it("judges only OSSENSOR_DEBUG against the level in force, and restore puts the level back", async () => {
    found.store.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "monitoring" },
    });
    found.store.create(
      "daemonsets.apps",
      daemonSetFixture({
        name: "ossensor",
        namespace: "monitoring",
        containerName: "ossensor",
        image: "example/ossensor:7",
        env: [
          { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
          { name: "SOMETHING_ELSE", value: "kept" },
        ],
      }),
    );
    expect((await rest(admin, "POST", "/clusters", { id: "found" })).status).toBe(200);
    const saved = await rest(admin, "PUT", "/clusters/found/connection", {
      kubeconfig: found.kubeconfig(),
      context: found.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    live = await openDriftLive({
      url: t.url,
      bus: t.bus,
      token: viewer,
      clusterId: "found",
      signal: liveAbort.signal,
    });

    const set = await rest(operator, "POST", "/clusters/found/debug-level", { level: 4, minutes: 30 });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    // The leader applies it (a row nothing announces to this test: polled).
    await waitFor(async () => (await t.db.debugLevel.findUnique({ where: { clusterId: "found" } }))?.status, {
      what: "the debug level to be active",
      timeoutMs: 20_000,
      until: (status) => status === "active",
    });
    expect(debugEnv()).toBe("4");

    await runKubectl(
      found,
      "set",
      "env",
      "ds/ossensor",
      "-n",
      "monitoring",
      "OSSENSOR_DEBUG=0",
      "OTHER_VARIABLE=x",
    );
    const verdict = await nextVerdict((drift) => drift.state === "drifted");
    expect(verdict).toMatchObject({ tracked: "debug-level" });
    expect(verdict.changes).toEqual([
      expect.objectContaining({ variable: "OSSENSOR_DEBUG", applied: "4", observed: "0" }),
    ]);

    const adopt = await rest(admin, "POST", "/clusters/found/sensor/drift/adopt", {
      message: "keep",
      profileName: "x",
    });
    expect(adopt.status).toBe(409);
    expect(JSON.stringify(adopt.json)).toContain("only set a debug level");
    const restored = await rest(operator, "POST", "/clusters/found/sensor/drift/restore", {});
    expect(restored.status, JSON.stringify(restored.json)).toBe(200);
    expect(debugEnv()).toBe("4");
    expect(restored.json.drifts).toEqual([expect.objectContaining({ state: "in-sync" })]);
  });
});
