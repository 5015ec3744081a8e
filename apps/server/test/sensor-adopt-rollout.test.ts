// An adopted DaemonSet whose HMAC key is a literal (the seed's osSensor
// example) under Tapfleet's rollouts, over REST against a simulated cluster:
// the preview says the literal will be replaced by the Secret Tapfleet writes;
// the first rollout creates that Secret with the cluster's ingest key and
// points the DaemonSet at it, the literal gone; neither key is ever in the
// profile, the rollout, the audit or the rows kept for a rollback (a rollback
// puts the literal back from a sealed copy). A Secret of that name that
// Tapfleet did not make is not overwritten: the cluster fails before its
// DaemonSet is touched, saying why. A key rotation writes the new key into the
// Secret Tapfleet made (never into the owner's own Secret); the Secret a
// rollout created is recorded, so Release leaves it and Uninstall removes it.

import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";

const run = promisify(execFile);
const SEED_MANIFEST = fileURLToPath(
  new URL("../../../packages/sensor/src/fixtures/ossensor-daemonset.yaml", import.meta.url),
);
/** The literal key in the seed's manifest. */
const LITERAL_KEY = "js84ld9vm3hff";
const CLUSTER = "adopted-key";
const SECRET = "ossensor-hmac";

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;
let ingestKey: string;
let previousKey: string;
let kubeconfigFile: string;

type Json = Record<string, unknown>;

async function rest(method: string, route: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${t.url}/api/v1${route}`, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Json };
}

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

const daemonSet = () =>
  sim.store.get("daemonsets.apps", "default", "ossensor") as unknown as {
    metadata: { generation: number };
    spec: { template: { spec: { containers: Array<{ name: string; env?: EnvEntry[] }> } } };
  };
const keyEntry = () =>
  daemonSet()
    .spec.template.spec.containers.flatMap((c) => c.env ?? [])
    .find((e) => e.name === "VSENSOR_HMAC_KEY");

/** The adopted install's recorded objects and their state, as the sensor status answers them. */
async function sensorObjects(): Promise<string[]> {
  const status = await rest("GET", `/clusters/${CLUSTER}/sensor`);
  expect(status.status, JSON.stringify(status.json)).toBe(200);
  return (status.json.objects as Array<{ kind: string; namespace: string; name: string; state: string }>).map(
    (object) => `${object.kind} ${object.namespace}/${object.name} ${object.state}`,
  );
}

const secretKey = (name: string) => {
  const secret = sim.store.get("secrets", "default", name) as unknown as
    { data: Record<string, string> } | undefined;
  return secret === undefined
    ? undefined
    : Buffer.from(secret.data["hmac-key"] ?? "", "base64").toString("utf8");
};

/** Points the DaemonSet's VSENSOR_HMAC_KEY at a Secret, as its owner would with kubectl edit. */
function referenceKeySecret(name: string, key: string): void {
  const edited = structuredClone(sim.store.get("daemonsets.apps", "default", "ossensor")!);
  const containers = (edited.spec as { template: { spec: { containers: Array<{ env?: EnvEntry[] }> } } })
    .template.spec.containers;
  for (const container of containers)
    container.env = container.env?.map((entry) =>
      entry.name === "VSENSOR_HMAC_KEY"
        ? { name: entry.name, valueFrom: { secretKeyRef: { name, key } } }
        : entry,
    );
  sim.store.update("daemonsets.apps", edited);
}

async function rotateKey(): Promise<{ key: string; change: Json }> {
  const rotated = await rest("POST", `/clusters/${CLUSTER}/rotate-key`, { graceHours: 1 });
  expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
  const audit = await rest("GET", "/audit?limit=1&action=clusters.rotateKey");
  const [event] = audit.json.items as Array<{ outcome: string; changes: Json[] }>;
  expect(event!.outcome).toBe("success");
  expect(JSON.stringify(event)).not.toContain(String(rotated.json.secret));
  return { key: String(rotated.json.secret), change: event!.changes[0]! };
}

async function rollOut(profileId: string, revision: number): Promise<Json> {
  const started = await rest("POST", "/rollouts", {
    profileId,
    revision,
    clusterIds: [CLUSTER],
    strategy: { gateSeconds: 30 },
  });
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  const done = await waitFor(() => rest("GET", `/rollouts/${String(started.json.id)}`), {
    what: "the rollout to finish",
    timeoutMs: 60_000,
    intervalMs: 200,
    until: (answer) => ["succeeded", "failed", "rolled-back", "aborted"].includes(String(answer.json.status)),
  });
  return done.json;
}

beforeAll(async () => {
  [t, sim] = await Promise.all([
    startTestServer(),
    startSimCluster({
      nodes: 2,
      kubelet: "fake",
      // Debug level 5 stands for a revision whose agents crash.
      crashWhen: ({ env }) => (env.OSSENSOR_DEBUG === "5" ? { exitCode: 2, message: "crashed" } : false),
      crashAfterMs: 100,
      backOffBaseMs: 200,
    }),
  ]);
  admin = (await t.userWithToken("admin")).token;
  const created = await rest("POST", "/clusters", { id: CLUSTER });
  expect(created.status).toBe(200);
  ingestKey = String(created.json.secret);
  const saved = await rest("PUT", `/clusters/${CLUSTER}/connection`, {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  const directory = await mkdtemp(path.join(tmpdir(), "tapfleet-adopt-rollout-"));
  kubeconfigFile = path.join(directory, "sim.kubeconfig");
  await writeFile(kubeconfigFile, sim.kubeconfig());
  await run("kubectl", ["--kubeconfig", kubeconfigFile, "apply", "-f", SEED_MANIFEST]);
  // A cluster operator's choice, kept by rollouts: pods count as available after 2 s Ready, which
  // outlasts the crash 100 ms after start (with 0 the gate could pass before the first crash).
  const seed = structuredClone(sim.store.get("daemonsets.apps", "default", "ossensor")!);
  (seed.spec as Json).minReadySeconds = 2;
  sim.store.update("daemonsets.apps", seed);
}, 60_000);

afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

describe("an adopted DaemonSet with a literal HMAC key", () => {
  let profileId: string;

  it("the preview says the first rollout replaces the literal with Tapfleet's Secret, and shows neither key", async () => {
    expect(keyEntry()).toEqual({ name: "VSENSOR_HMAC_KEY", value: LITERAL_KEY });
    const preview = await rest(
      "GET",
      `/clusters/${CLUSTER}/sensor/adopt-preview?namespace=default&name=ossensor`,
    );
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json.hmacKeyOnRollout).toBe(
      "The key is a literal value in the DaemonSet; Tapfleet does not copy it into the profile and never shows it. " +
        `The first rollout replaces it with a reference to Secret default/${SECRET} (key hmac-key), which Tapfleet creates in the DaemonSet's namespace with this cluster's ingest key, writes again at each rollout and key rotation (Uninstall removes it if a rollout created it). ` +
        "Tapfleet refuses reports signed with the literal key (it is not this cluster's ingest key): until that rollout, and from any pod still running with it.",
    );
    expect(JSON.stringify(preview.json)).not.toContain(LITERAL_KEY);
    // The OpenAPI document declares the field.
    const openapi = await (await fetch(`${t.url}/api/v1/openapi.json`)).text();
    expect(openapi).toContain("hmacKeyOnRollout");
  });

  it("a Secret of that name that Tapfleet did not make is not overwritten: the cluster fails, the DaemonSet untouched", async () => {
    const adopted = await rest("POST", `/clusters/${CLUSTER}/sensor/adopt`, {
      namespace: "default",
      name: "ossensor",
      profileName: "adopted-key",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    profileId = String((adopted.json.profile as Json).id);
    sim.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: SECRET, namespace: "default" },
      data: { other: Buffer.from("someone else's").toString("base64") },
    });
    const generation = daemonSet().metadata.generation;
    for (const [expectedLatest, debugLevel] of [
      [1, 3],
      [2, 5],
    ]) {
      const saved = await rest("POST", `/profiles/${profileId}/revisions`, {
        expectedLatest,
        settings: { collectorHost: "192.168.0.1", debugLevel },
        message: `debug ${debugLevel}`,
      });
      expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    }
    const done = await rollOut(profileId, 2);
    const cluster = (done.clusters as Json[])[0]!;
    expect(cluster.status).toBe("failed");
    expect(cluster.reason).toMatch(
      new RegExp(`^Secret default/${SECRET} exists and Tapfleet did not make it`),
    );
    expect(daemonSet().metadata.generation).toBe(generation);
    expect(keyEntry()).toEqual({ name: "VSENSOR_HMAC_KEY", value: LITERAL_KEY });
    const secret = sim.store.get("secrets", "default", SECRET) as unknown as { data: Json };
    expect(secret.data).toEqual({ other: Buffer.from("someone else's").toString("base64") });
    sim.store.delete("secrets", "default", SECRET);
  });

  it("a revision whose agents crash is rolled back to the literal key, kept sealed meanwhile", async () => {
    const done = await rollOut(profileId, 3);
    const cluster = (done.clusters as Json[])[0]!;
    expect(cluster.status, JSON.stringify(done)).toBe("rolled-back");
    // The seed's container keeps the default terminationMessagePolicy (File): no log tail to quote.
    expect(cluster.reason).toMatch(/^node-\d: (Error|CrashLoopBackOff), exit code 2/);
    expect(keyEntry()).toEqual({ name: "VSENSOR_HMAC_KEY", value: LITERAL_KEY });
    const rows = JSON.stringify(await t.db.rolloutCluster.findMany({ where: { clusterId: CLUSTER } }));
    expect(rows).not.toContain(LITERAL_KEY);
    // The Secret the rollout created stays recorded as Tapfleet's after the rollback (the DaemonSet no
    // longer reads it): the next rollout writes it again, and Uninstall removes it.
    expect(await sensorObjects()).toEqual([
      "DaemonSet default/ossensor present",
      `Secret default/${SECRET} present`,
    ]);
  });

  it("a rollout that passes leaves the DaemonSet reading the key from the Secret, which holds the cluster's ingest key; no key is stored or shown", async () => {
    const done = await rollOut(profileId, 2);
    expect(done.status, JSON.stringify(done, null, 1)).toBe("succeeded");

    expect(keyEntry()).toEqual({
      name: "VSENSOR_HMAC_KEY",
      valueFrom: { secretKeyRef: { name: SECRET, key: "hmac-key" } },
    });
    expect(JSON.stringify(daemonSet())).not.toContain(LITERAL_KEY);
    const secret = sim.store.get("secrets", "default", SECRET) as unknown as {
      metadata: { labels?: Record<string, string> };
      data: Record<string, string>;
    };
    expect(Buffer.from(secret.data["hmac-key"]!, "base64").toString("utf8")).toBe(ingestKey);
    expect(secret.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("tapfleet");
    // The pods read it: every one runs the new template and is Ready (a missing Secret would not start them).
    await waitFor(
      () => sim.store.list("pods", { namespace: "default", labelSelector: "name=ossensor" }).items,
      {
        what: "both pods on the new template and Ready",
        timeoutMs: 15_000,
        until: (pods) =>
          pods.length === 2 &&
          pods.every(
            (pod) =>
              JSON.stringify(pod.spec).includes(SECRET) &&
              ((pod.status as { conditions?: Json[] } | undefined)?.conditions ?? []).some(
                (c) => c.type === "Ready" && c.status === "True",
              ),
          ),
      },
    );

    // Neither key anywhere Tapfleet keeps or answers: the profile, the rollout, the audit, the rollout's rows.
    const answers = await Promise.all([
      rest("GET", `/profiles/${profileId}`),
      rest("GET", `/rollouts/${String(done.id)}`),
      rest("GET", "/audit?limit=200"),
      rest("GET", `/clusters/${CLUSTER}/sensor`),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.json)).not.toContain(LITERAL_KEY);
      expect(JSON.stringify(answer.json)).not.toContain(ingestKey);
    }
    const rows = JSON.stringify(await t.db.rolloutCluster.findMany({ where: { clusterId: CLUSTER } }));
    expect(rows).not.toContain(LITERAL_KEY);
    expect(rows).not.toContain(ingestKey);
    const revisions = JSON.stringify(await t.db.profileRevision.findMany({ where: { profileId } }));
    expect(revisions).not.toContain(LITERAL_KEY);
  }, 90_000);

  it("a key rotation writes the new key into the Secret Tapfleet made, and its audit event says so", async () => {
    const uid = sim.store.get("secrets", "default", SECRET)!.metadata.uid;
    const { key, change } = await rotateKey();
    expect(key).not.toBe(ingestKey);
    ingestKey = key;
    expect(secretKey(SECRET)).toBe(key);
    expect(sim.store.get("secrets", "default", SECRET)!.metadata.uid).toBe(uid);
    expect(change).toEqual({ field: "sensorKey", from: null, to: `Secret default/${SECRET}` });
  });

  it("a rotation while the cluster's connection is disabled still rotates, and its audit event says the Secret was not written", async () => {
    const disabled = await rest("PATCH", `/clusters/${CLUSTER}/connection`, { enabled: false });
    expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);
    const { key, change } = await rotateKey();
    expect(change).toEqual({
      field: "sensorKey",
      from: null,
      to: `not written: The cluster "${CLUSTER}"'s Kubernetes connection is disabled: enable it first.`,
    });
    expect(secretKey(SECRET)).toBe(ingestKey);
    const enabled = await rest("PATCH", `/clusters/${CLUSTER}/connection`, { enabled: true });
    expect(enabled.status, JSON.stringify(enabled.json)).toBe(200);
    // The next rotation writes it.
    expect(key).not.toBe(ingestKey);
    const again = await rotateKey();
    expect(again.change).toEqual({ field: "sensorKey", from: null, to: `Secret default/${SECRET}` });
    expect(secretKey(SECRET)).toBe(again.key);
    ingestKey = again.key;
  });

  it("a rotation never writes the owner's own Secret the DaemonSet reads, nor Tapfleet's it no longer reads", async () => {
    // Labelled as Tapfleet's objects are: the reference is what makes it the owner's, not the label.
    const ownerData = { k: Buffer.from("the owner's key").toString("base64") };
    sim.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "owner-key",
        namespace: "default",
        labels: { "app.kubernetes.io/part-of": "tapfleet" },
      },
      data: ownerData,
    });
    referenceKeySecret("owner-key", "k");
    const { key, change } = await rotateKey();
    expect((sim.store.get("secrets", "default", "owner-key") as unknown as { data: Json }).data).toEqual(
      ownerData,
    );
    expect(secretKey(SECRET)).toBe(ingestKey);
    expect(change).toEqual({
      field: "sensorKey",
      from: null,
      to: `not written: the DaemonSet does not read its key from Secret default/${SECRET}`,
    });
    referenceKeySecret(SECRET, "hmac-key");
    sim.store.delete("secrets", "default", "owner-key");
    // Tapfleet's Secret keeps the key before; the next write gives it this one.
    previousKey = ingestKey;
    ingestKey = key;
  });

  it("Release leaves the Secret with the running DaemonSet and lists it; Uninstall removes the Secret a rollout created", async () => {
    const released = await rest("POST", `/clusters/${CLUSTER}/sensor/release`, {});
    expect(released.status, JSON.stringify(released.json)).toBe(200);
    expect(released.json.released).toEqual([
      { kind: "DaemonSet", name: "ossensor", namespace: "default" },
      { kind: "Secret", name: SECRET, namespace: "default" },
    ]);
    expect(secretKey(SECRET)).toBe(previousKey);

    // Adopted again, the Secret it finds is not one this adoption installed: only the DaemonSet is recorded.
    const adopted = await rest("POST", `/clusters/${CLUSTER}/sensor/adopt`, {
      namespace: "default",
      name: "ossensor",
      profileName: "adopted-key-again",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    expect(await sensorObjects()).toEqual(["DaemonSet default/ossensor present"]);
    const otherProfile = String((adopted.json.profile as Json).id);

    // Once a rollout creates it, it is Tapfleet's, and Uninstall removes it with the DaemonSet.
    sim.store.delete("secrets", "default", SECRET);
    const saved = await rest("POST", `/profiles/${otherProfile}/revisions`, {
      expectedLatest: 1,
      settings: { collectorHost: "192.168.0.1", debugLevel: 3 },
      message: "debug 3",
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const done = await rollOut(otherProfile, 2);
    expect(done.status, JSON.stringify(done, null, 1)).toBe("succeeded");
    expect(secretKey(SECRET)).toBe(ingestKey);
    expect(await sensorObjects()).toEqual([
      "DaemonSet default/ossensor present",
      `Secret default/${SECRET} present`,
    ]);

    const uninstalled = await rest("DELETE", `/clusters/${CLUSTER}/sensor`);
    expect(uninstalled.status, JSON.stringify(uninstalled.json)).toBe(200);
    expect(uninstalled.json).toEqual({
      removed: [
        { kind: "Secret", name: SECRET, namespace: "default" },
        { kind: "DaemonSet", name: "ossensor", namespace: "default" },
      ],
      kept: [],
    });
    expect(sim.store.get("secrets", "default", SECRET)).toBeUndefined();
    expect(sim.store.get("daemonsets.apps", "default", "ossensor")).toBeUndefined();
  }, 90_000);
});
