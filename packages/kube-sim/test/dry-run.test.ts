// A dry-run create answers with what a real create would store, by the store's
// own rules and clock, and stores nothing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type KubeObject, type RunningSimCluster } from "../src/index.ts";
import { createManualClock } from "../src/manual-clock.ts";
import { daemonSetFixture } from "../src/testing/fixtures.ts";
import { call } from "./helpers.ts";

const DS_PATH = "/apis/apps/v1/namespaces/default/daemonsets";
const clock = createManualClock(Date.UTC(2026, 2, 14, 9, 30, 15, 700));

let cluster: RunningSimCluster;
beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 1, clock });
});
afterAll(async () => {
  await cluster.stop();
});

describe("dryRun=All create", () => {
  it("returns the defaults, generated name, uid and clock time of a real create, without storing it", async () => {
    const body = { ...daemonSetFixture(), metadata: { generateName: "agent-", namespace: "default" } };
    const before = cluster.store.currentResourceVersion();

    const dry = await call(cluster, "POST", `${DS_PATH}?dryRun=All`, { body });
    expect(dry.status).toBe(201);
    expect(cluster.store.currentResourceVersion()).toBe(before);
    expect(cluster.store.list("daemonsets.apps").items).toEqual([]);

    const real = await call(cluster, "POST", DS_PATH, { body });
    expect(real.status).toBe(201);

    // The store's naming rule (utilrand's alphabet) and the injected clock, not Math.random and the wall clock.
    for (const created of [dry.json, real.json]) {
      expect(created.metadata.name).toMatch(/^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata.creationTimestamp).toBe("2026-03-14T09:30:15Z");
    }
    expect(dry.json.metadata.resourceVersion).toBeUndefined();
    expect(real.json.metadata.resourceVersion).toBeDefined();
    const strip = (o: KubeObject): KubeObject => ({
      ...o,
      metadata: { ...o.metadata, name: "", uid: "", resourceVersion: "" },
    });
    // Defaults (updateStrategy, revisionHistoryLimit, the pod template's), generation,
    // the template-generation annotation and the initial status: all the same.
    expect(strip(dry.json as KubeObject)).toEqual(strip(real.json as KubeObject));
    expect(dry.json.spec.updateStrategy).toBeDefined();
  });

  it("refuses what a real create refuses, with the same Status", async () => {
    const invalid = daemonSetFixture({ name: "Bad_Name" });
    const dry = await call(cluster, "POST", `${DS_PATH}?dryRun=All`, { body: invalid });
    const real = await call(cluster, "POST", DS_PATH, { body: invalid });
    expect(dry.status).toBe(422);
    expect(dry.json).toEqual(real.json);

    await call(cluster, "POST", DS_PATH, { body: daemonSetFixture({ name: "taken" }) });
    const before = cluster.store.currentResourceVersion();
    const taken = await call(cluster, "POST", `${DS_PATH}?dryRun=All`, {
      body: daemonSetFixture({ name: "taken" }),
    });
    expect(taken.status).toBe(409);
    expect(taken.json.message).toBe('daemonsets.apps "taken" already exists');
    expect(cluster.store.currentResourceVersion()).toBe(before);
  });
});
