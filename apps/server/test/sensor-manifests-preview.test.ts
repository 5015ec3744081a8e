// Export before install: the YAML an install would apply, fetched over REST
// without installing, applied with the real kubectl to one simulated cluster
// while Tapfleet installs the same options into another; the objects are the
// same, and kubectl finds nothing to change on the installed one (no drift).

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { kubectl as runKubectl } from "./kubectl.ts";
import { normalise, SENSOR_OBJECTS } from "./sensor-objects.ts";

let t: TestServer;
let installed: RunningSimCluster;
let gitops: RunningSimCluster;
let admin: string;
let viewer: string;
let directory: string;

const INSTALL = {
  settings: { collectorHost: "collector.example.com", collectorPort: 8443, includeList: ["^eth"] },
  image: "tapfleet/agent:1.0.0",
  captureMode: "capabilities",
  networkPolicy: true,
};

interface Answer {
  error?: { message: string };
  yaml?: string;
  includesSecret?: boolean;
  objects?: Array<{ kind: string; name: string }>;
  drift?: string[];
  installed?: boolean;
}

const rest = (token: string, method: string, route: string, body?: unknown) =>
  callRest<Answer>(t.url, { method, path: route, token, body });

/** kubectl's output, a line each. */
const kubectl = async (target: RunningSimCluster, ...args: string[]) =>
  (await runKubectl(target, ...args)).trim().split("\n");

beforeAll(async () => {
  [t, installed, gitops] = await Promise.all([
    startTestServer(),
    startSimCluster({ nodes: 2, kubelet: "fake" }),
    startSimCluster({ nodes: 2, kubelet: "fake" }),
  ]);
  admin = (await t.userWithToken("admin")).token;
  viewer = (await t.userWithToken("viewer")).token;
  directory = await mkdtemp(path.join(tmpdir(), "tapfleet-manifests-preview-"));
  expect((await rest(admin, "POST", "/clusters", { id: "preview" })).status).toBe(200);
  const saved = await rest(admin, "PUT", "/clusters/preview/connection", {
    kubeconfig: installed.kubeconfig(),
    context: installed.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
});
afterAll(async () => {
  await Promise.all([t?.stop(), installed?.stop(), gitops?.stop()]);
});

describe("export before install", () => {
  let yaml: string;

  it("refuses the Secret to a viewer and bad options at the field, and touches no cluster", async () => {
    const route = "/clusters/preview/sensor/manifests/preview";
    expect((await rest(viewer, "POST", route, { ...INSTALL, includeSecret: true })).status).toBe(403);
    const bad = await rest(admin, "POST", route, { ...INSTALL, image: "has spaces in it" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("image");
    expect((await rest(admin, "POST", "/clusters/nope/sensor/manifests/preview", INSTALL)).status).toBe(404);

    const plain = await rest(viewer, "POST", route, INSTALL);
    expect(plain.status, JSON.stringify(plain.json)).toBe(200);
    expect(plain.json.includesSecret).toBe(false);
    expect(plain.json.yaml).not.toContain("kind: Secret");
    expect(plain.json.yaml).toContain(
      "kubectl create secret generic tapfleet-sensor-hmac -n tapfleet-sensor",
    );
    expect(installed.store.get("namespaces", undefined, "tapfleet-sensor")).toBeUndefined();
    expect((await rest(viewer, "GET", "/clusters/preview/sensor")).json.installed).toBe(false);
  });

  it("gives an admin the full YAML, which kubectl applies to a fresh cluster", async () => {
    const full = await rest(admin, "POST", "/clusters/preview/sensor/manifests/preview", {
      ...INSTALL,
      includeSecret: true,
    });
    expect(full.status, JSON.stringify(full.json)).toBe(200);
    yaml = full.json.yaml!;
    expect(full.json.objects!.map((object) => object.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Secret",
      "NetworkPolicy",
      "DaemonSet",
    ]);
    expect(parseAllDocuments(yaml).length).toBe(7);
    const file = path.join(directory, "preview.yaml");
    await writeFile(file, yaml);
    const created = await kubectl(gitops, "apply", "-f", file);
    expect(created).toHaveLength(7);
    for (const line of created) expect(line).toMatch(/ created$/);
  });

  it("matches what Tapfleet installs: the same objects, kubectl finds nothing to change, no drift", async () => {
    const install = await rest(admin, "POST", "/clusters/preview/sensor", INSTALL);
    expect(install.status, JSON.stringify(install.json)).toBe(200);
    for (const [resource, namespace, name] of SENSOR_OBJECTS)
      expect(normalise(gitops.store.get(resource, namespace, name)), `${resource} ${name}`).toEqual(
        normalise(installed.store.get(resource, namespace, name)),
      );
    const file = path.join(directory, "preview.yaml");
    const onInstalled = await kubectl(installed, "apply", "-f", file);
    expect(onInstalled).toHaveLength(7);
    for (const line of onInstalled) expect(line).toMatch(/ unchanged$/);
    const status = await rest(viewer, "GET", "/clusters/preview/sensor");
    expect(status.json.drift).toEqual([]);
  });

  it("is adopted where it was applied with kubectl: the import reads it back to the very config hash it was rendered with", async () => {
    expect((await rest(admin, "POST", "/clusters", { id: "gitops" })).status).toBe(200);
    const saved = await rest(admin, "PUT", "/clusters/gitops/connection", {
      kubeconfig: gitops.kubeconfig(),
      context: gitops.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const rendered = gitops.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")!;
    const hash = rendered.metadata.annotations?.["tapfleet.io/config-hash"];
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const adopted = await rest(admin, "POST", "/clusters/gitops/sensor/adopt", {
      namespace: "tapfleet-sensor",
      name: "tapfleet-sensor",
      profileName: "from-gitops",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    expect((adopted.json as { settings?: unknown }).settings).toEqual(INSTALL.settings);
    expect(
      gitops.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor")!.metadata.annotations?.[
        "tapfleet.io/config-hash"
      ],
    ).toBe(hash);
    const status = await rest(viewer, "GET", "/clusters/gitops/sensor");
    expect(status.json.drift).toEqual([]);
  });
});
