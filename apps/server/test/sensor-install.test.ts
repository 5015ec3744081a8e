// Installing, exporting and uninstalling the sensor over REST, in a simulated
// cluster reached through the stored connection; the export checked with the
// real kubectl against the installed cluster and against a fresh one.

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { kubectl, setSensorEnv } from "./kubectl.ts";
import { normalise, SENSOR_OBJECTS } from "./sensor-objects.ts";

let t: TestServer;
let sim: RunningSimCluster;
let fresh: RunningSimCluster;
let admin: string;
let viewer: string;
let directory: string;
let ingestKey: string;

const INSTALL = {
  settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
  image: "tapfleet/agent:1.0.0",
  captureMode: "capabilities",
  networkPolicy: true,
};

beforeAll(async () => {
  [t, sim, fresh] = await Promise.all([
    startTestServer(),
    startSimCluster({ nodes: 2, kubelet: "fake" }),
    startSimCluster({ nodes: 2, kubelet: "fake" }),
  ]);
  admin = (await t.userWithToken("admin")).token;
  viewer = (await t.userWithToken("viewer")).token;
  directory = await mkdtemp(path.join(tmpdir(), "tapfleet-sensor-install-"));
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop(), fresh?.stop()]);
});

/** The fields of the answers these tests read. */
interface Answer {
  error?: { message: string };
  secret?: string;
  installed?: boolean;
  objects?: Array<{ kind: string; name: string; state?: string }>;
  rollout?: { ready: number } | null;
  drift?: string[];
  driftChanges?: Array<{ kind: string; name: string; applied: string | null; observed: string | null }>;
  yaml?: string;
  includesSecret?: boolean;
  removed?: Array<{ kind: string }>;
  kept?: Array<{ kind: string; reason: string }>;
}

const rest = (token: string, method: string, route: string, body?: unknown) =>
  callRest<Answer>(t.url, { method, path: route, token, body });

describe("the sensor in a connected cluster", () => {
  it("is refused while the cluster has no connection, naming it", async () => {
    const created = await rest(admin, "POST", "/clusters", { id: "inst" });
    expect(created.status).toBe(200);
    ingestKey = created.json.secret!;
    const refused = await rest(admin, "POST", "/clusters/inst/sensor", INSTALL);
    expect(refused.status).toBe(409);
    expect(refused.json.error?.message).toMatch(/no Kubernetes connection/);
  });

  it("is installed by an admin (not a viewer): the objects exist as rendered and the pods come up", async () => {
    const saved = await rest(admin, "PUT", "/clusters/inst/connection", {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);

    expect((await rest(viewer, "POST", "/clusters/inst/sensor", INSTALL)).status).toBe(403);
    const bad = await rest(admin, "POST", "/clusters/inst/sensor", { ...INSTALL, namespace: "Not_A_Label" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("namespace");
    expect(sim.store.get("namespaces", undefined, "tapfleet-sensor")).toBeUndefined();

    const installed = await rest(admin, "POST", "/clusters/inst/sensor", INSTALL);
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    expect(installed.json).toMatchObject({ installed: true, revision: 1, namespace: "tapfleet-sensor" });
    expect(JSON.stringify(installed.json)).not.toContain(ingestKey);

    const daemonSet = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor") as unknown as {
      spec: {
        template: {
          spec: {
            containers: Array<{
              image: string;
              securityContext: { privileged?: boolean; capabilities: { add: string[] } };
            }>;
          };
        };
      };
    };
    const capture = daemonSet.spec.template.spec.containers[0]!;
    expect(capture.image).toBe("tapfleet/agent:1.0.0");
    expect(capture.securityContext.privileged).not.toBe(true);
    expect(capture.securityContext.capabilities.add).toEqual(
      expect.arrayContaining(["NET_RAW", "NET_ADMIN"]),
    );
    const secret = sim.store.get("secrets", "tapfleet-sensor", "tapfleet-sensor-hmac") as unknown as {
      data: Record<string, string>;
    };
    expect(Buffer.from(secret.data["hmac-key"]!, "base64").toString()).toBe(ingestKey);
    expect(
      sim.store.get("clusterroles.rbac.authorization.k8s.io", undefined, installed.json.objects![2]!.name),
    ).toBeDefined();

    const status = await waitFor(() => rest(viewer, "GET", "/clusters/inst/sensor"), {
      what: "both sensor pods ready",
      timeoutMs: 15_000,
      until: (answer) => answer.json.rollout?.ready === 2,
    });
    expect(status.json.objects!.map((object) => `${object.kind}:${object.state}`)).toEqual([
      "Namespace:present",
      "ServiceAccount:present",
      "ClusterRole:present",
      "ClusterRoleBinding:present",
      "Secret:present",
      "NetworkPolicy:present",
      "DaemonSet:present",
    ]);
    expect(status.json.drift).toEqual([]);
  });

  it("keeps rotation working: a rotated key reaches the Secret and the template's config hash, so the pods roll", async () => {
    const before = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")!;
    const rotated = await rest(admin, "POST", "/clusters/inst/rotate-key", { graceHours: 1 });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    ingestKey = rotated.json.secret!;
    const secret = sim.store.get("secrets", "tapfleet-sensor", "tapfleet-sensor-hmac") as unknown as {
      data: Record<string, string>;
    };
    expect(Buffer.from(secret.data["hmac-key"]!, "base64").toString()).toBe(ingestKey);
    const after = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")!;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.annotations?.["tapfleet.io/config-hash"]).not.toBe(
      before.metadata.annotations?.["tapfleet.io/config-hash"],
    );
    const status = await rest(viewer, "GET", "/clusters/inst/sensor");
    expect(status.json).toMatchObject({ revision: 2, drift: [] });
  });

  it("exports YAML: the Secret only for an admin asking; kubectl apply finds nothing to change and builds the same objects in a fresh cluster", async () => {
    const plain = await rest(viewer, "GET", "/clusters/inst/sensor/manifests");
    expect(plain.status).toBe(200);
    expect(plain.json.includesSecret).toBe(false);
    expect(plain.json.yaml).not.toContain("kind: Secret");
    expect(plain.json.yaml).toContain(
      "kubectl create secret generic tapfleet-sensor-hmac -n tapfleet-sensor",
    );
    expect(plain.json.yaml).not.toContain(Buffer.from(ingestKey).toString("base64"));
    expect((await rest(viewer, "GET", "/clusters/inst/sensor/manifests?includeSecret=true")).status).toBe(
      403,
    );

    const full = await rest(admin, "GET", "/clusters/inst/sensor/manifests?includeSecret=true");
    expect(full.status).toBe(200);
    expect(full.json.yaml).toContain("kind: Secret");
    expect(parseAllDocuments(full.json.yaml!).length).toBe(7);
    const file = path.join(directory, "export.yaml");
    await writeFile(file, full.json.yaml!);

    const onInstalled = (await kubectl(sim, "apply", "-f", file)).trim().split("\n");
    expect(onInstalled).toHaveLength(7);
    for (const line of onInstalled) expect(line).toMatch(/ unchanged$/);

    const onFresh = (await kubectl(fresh, "apply", "-f", file)).trim().split("\n");
    for (const line of onFresh) expect(line).toMatch(/ created$/);
    for (const [resource, namespace, name] of SENSOR_OBJECTS)
      expect(normalise(fresh.store.get(resource, namespace, name)), `${resource} ${name}`).toEqual(
        normalise(sim.store.get(resource, namespace, name)),
      );
    const status = await rest(viewer, "GET", "/clusters/inst/sensor");
    expect(status.json.drift).toEqual([]);
    expect(status.json.driftChanges).toEqual([]);

    // A change outside Tapfleet is drift by setting; applying the export again puts it back, and is not drift.
    await kubectl(
      sim,
      "set",
      "image",
      "ds/tapfleet-sensor",
      "-n",
      "tapfleet-sensor",
      "capture=tapfleet/agent:9",
    );
    await setSensorEnv(sim, "VSENSOR_PORT=443");
    const drifted = await rest(viewer, "GET", "/clusters/inst/sensor");
    expect(drifted.json.driftChanges).toEqual([
      expect.objectContaining({ name: "collectorPort", applied: "8443", observed: "443" }),
      expect.objectContaining({
        kind: "image",
        applied: "tapfleet/agent:1.0.0",
        observed: "tapfleet/agent:9",
      }),
    ]);
    expect(drifted.json.drift).toHaveLength(2);
    await kubectl(sim, "apply", "-f", file);
    expect((await rest(viewer, "GET", "/clusters/inst/sensor")).json).toMatchObject({
      drift: [],
      driftChanges: [],
    });
  });

  it("is uninstalled exactly: a foreign object in the namespace survives, and so does the namespace", async () => {
    sim.store.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "someone-elses", namespace: "tapfleet-sensor" },
    });
    expect((await rest(viewer, "DELETE", "/clusters/inst/sensor")).status).toBe(403);
    const removed = await rest(admin, "DELETE", "/clusters/inst/sensor");
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json.removed!.map((object) => object.kind)).toEqual([
      "DaemonSet",
      "NetworkPolicy",
      "Secret",
      "ClusterRoleBinding",
      "ClusterRole",
      "ServiceAccount",
    ]);
    expect(removed.json.kept).toEqual([
      expect.objectContaining({
        kind: "Namespace",
        reason: expect.stringContaining("ConfigMap someone-elses"),
      }),
    ]);
    expect(sim.store.get("configmaps", "tapfleet-sensor", "someone-elses")).toBeDefined();
    expect(sim.store.get("namespaces", undefined, "tapfleet-sensor")).toBeDefined();
    for (const [resource, namespace, name] of SENSOR_OBJECTS.slice(1))
      expect(sim.store.get(resource, namespace, name), `${resource} ${name}`).toBeUndefined();
    expect((await rest(viewer, "GET", "/clusters/inst/sensor")).json.installed).toBe(false);
  });

  it("removes the namespace it created when nothing else is in it", async () => {
    const installed = await rest(admin, "POST", "/clusters/inst/sensor", {
      ...INSTALL,
      namespace: "sensor-two",
    });
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    const removed = await rest(admin, "DELETE", "/clusters/inst/sensor");
    expect(removed.status).toBe(200);
    expect(removed.json.removed!.map((object) => object.kind)).toContain("Namespace");
    expect(removed.json.kept).toEqual([]);
  });

  it("refuses to install over a DaemonSet Tapfleet did not install: adopt it instead", async () => {
    sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "theirs" } });
    sim.store.create("daemonsets.apps", daemonSetFixture({ name: "tapfleet-sensor", namespace: "theirs" }));
    const refused = await rest(admin, "POST", "/clusters/inst/sensor", { ...INSTALL, namespace: "theirs" });
    expect(refused.status).toBe(409);
    expect(refused.json.error?.message).toMatch(/adopt it instead/);
    expect(sim.store.get("serviceaccounts", "theirs", "tapfleet-sensor")).toBeUndefined();
  });

  it("reports the permission a connection lacks and leaves nothing half-installed", async () => {
    sim.addToken({
      token: "watcher",
      user: "system:serviceaccount:tapfleet:watcher",
      allow: [
        { verbs: ["get", "list", "watch"], resources: ["*"] },
        {
          verbs: ["create", "patch", "delete"],
          resources: ["namespaces", "serviceaccounts", "secrets", "configmaps", "daemonsets.apps"],
        },
      ],
    });
    expect((await rest(admin, "POST", "/clusters", { id: "limited" })).status).toBe(200);
    const saved = await rest(admin, "PUT", "/clusters/limited/connection", {
      kubeconfig: sim.kubeconfig({ token: "watcher" }),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const refused = await rest(admin, "POST", "/clusters/limited/sensor", {
      ...INSTALL,
      namespace: "limited",
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error?.message).toContain('cannot patch resource "clusterroles"');
    expect(refused.json.error?.message).toContain(
      "removed again what had been created: ServiceAccount limited/tapfleet-sensor, Namespace limited",
    );
    expect(sim.store.get("serviceaccounts", "limited", "tapfleet-sensor")).toBeUndefined();
    expect((await rest(viewer, "GET", "/clusters/limited/sensor")).json.installed).toBe(false);
  });
});
