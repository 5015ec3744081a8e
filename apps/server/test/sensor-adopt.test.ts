// Adopting a sensor DaemonSet over REST: the seed's example manifest applied
// with the real kubectl to a simulated cluster, adopted into a profile
// revision without restarting its pods; refusals that change nothing;
// release (delete nothing) and uninstall (delete exactly what was adopted).

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { kubectl as runKubectl } from "./kubectl.ts";

const SEED_MANIFEST = fileURLToPath(
  new URL("../../../packages/sensor/src/fixtures/ossensor-daemonset.yaml", import.meta.url),
);

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;
let viewer: string;
let directory: string;
let kubeconfigFile: string;

type Json = Record<string, unknown>;
interface Answer {
  error?: { message: string };
  adoptable?: boolean;
  problems?: string[];
  warnings?: string[];
  unknownVariables?: string[];
  settings?: Json | null;
  hmacKeySource?: string;
  defaultMessage?: string;
  profile?: { id: string; name: string; revision: number } | null;
  revisions?: Array<{ number: number; settings: Json; message: string }>;
  installed?: boolean;
  origin?: string | null;
  drift?: string[];
  objects?: Array<{ kind: string; name: string; state?: string }>;
  removed?: Array<{ kind: string; name: string }>;
  kept?: unknown[];
  released?: Array<{ kind: string; name: string }>;
  items?: Array<{ name: string }>;
}

const rest = (token: string, method: string, route: string, body?: unknown) =>
  callRest<Answer>(t.url, { method, path: route, token, body });

const kubectl = (...args: string[]) => runKubectl(kubeconfigFile, ...args);

function daemonSet(namespace: string, name: string) {
  return sim.store.get("daemonsets.apps", namespace, name) as unknown as
    | {
        metadata: {
          uid: string;
          generation: number;
          labels?: Record<string, string>;
          annotations?: Record<string, string>;
        };
        spec: { template: unknown };
      }
    | undefined;
}

/** The pods of a DaemonSet by their uids: a restart would replace them. */
function podUids(label: string): string[] {
  return sim.store
    .list("pods", { namespace: "default", labelSelector: label })
    .items.map((pod) => pod.metadata.uid!)
    .sort();
}

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
  admin = (await t.userWithToken("admin")).token;
  viewer = (await t.userWithToken("viewer")).token;
  directory = await mkdtemp(path.join(tmpdir(), "tapfleet-sensor-adopt-"));
  kubeconfigFile = path.join(directory, "sim.kubeconfig");
  await writeFile(kubeconfigFile, sim.kubeconfig());
  expect((await rest(admin, "POST", "/clusters", { id: "adopt", displayName: "lab" })).status).toBe(200);
  const saved = await rest(admin, "PUT", "/clusters/adopt/connection", {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

const SEED_SETTINGS = {
  collectorHost: "192.168.0.1",
  debugLevel: 2,
  antigenaEnabled: false,
  captureNewDevices: true,
  excludeList: ["^veth"],
  includeList: ["^eth"],
};

describe("adopting the seed's example osSensor DaemonSet", () => {
  let pods: string[];
  let template: string;

  it("is applied with kubectl and runs its pods", async () => {
    expect(await kubectl("apply", "-f", SEED_MANIFEST)).toMatch(/daemonset.apps\/ossensor created/);
    pods = await waitFor(() => podUids("name=ossensor"), {
      what: "the ossensor pods",
      timeoutMs: 15_000,
      until: (uids) => uids.length === 2,
    });
    template = JSON.stringify(daemonSet("default", "ossensor")!.spec.template);
  });

  it("previews what adoption imports, with the literal key as a warning and nothing changed", async () => {
    const preview = await rest(
      viewer,
      "GET",
      "/clusters/adopt/sensor/adopt-preview?namespace=default&name=ossensor",
    );
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json).toMatchObject({
      adoptable: true,
      problems: [],
      unknownVariables: [],
      settings: SEED_SETTINGS,
      hmacKeySource: "a literal value in the DaemonSet",
      defaultMessage: "Adopted from lab default/ossensor",
    });
    expect(preview.json.warnings!.join("\n")).toContain("VSENSOR_HMAC_KEY: is a literal in the DaemonSet");
    expect(preview.json.warnings!.join("\n")).toContain("not this cluster's ingest key");
    expect(JSON.stringify(preview.json)).not.toContain("js84ld9vm3hff");
    expect(
      daemonSet("default", "ossensor")!.metadata.labels?.["app.kubernetes.io/managed-by"],
    ).toBeUndefined();

    const missing = await rest(
      viewer,
      "GET",
      "/clusters/adopt/sensor/adopt-preview?namespace=default&name=nope",
    );
    expect(missing.status).toBe(404);
    expect(missing.json.error?.message).toContain("no DaemonSet default/nope");
    const bad = await rest(
      viewer,
      "GET",
      "/clusters/adopt/sensor/adopt-preview?namespace=Default&name=ossensor",
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("namespace");
  });

  it("is refused to a viewer and with bad input, changing nothing", async () => {
    const body = { namespace: "default", name: "ossensor", profileName: "lab-sensors" };
    expect((await rest(viewer, "POST", "/clusters/adopt/sensor/adopt", body)).status).toBe(403);
    const bad = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      ...body,
      profileName: "Lab Sensors",
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("profileName");
    expect((await rest(admin, "GET", "/profiles")).json.items).toEqual([]);
    expect((await rest(admin, "GET", "/clusters/adopt/sensor")).json.installed).toBe(false);
  });

  it("becomes a profile revision equal to the manifest's settings, without restarting a pod", async () => {
    const adopted = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      namespace: "default",
      name: "ossensor",
      profileName: "lab-sensors",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    expect(adopted.json.profile).toMatchObject({ name: "lab-sensors", revision: 1 });

    const profile = await rest(viewer, "GET", `/profiles/${adopted.json.profile!.id}`);
    expect(profile.status).toBe(200);
    expect(profile.json.revisions).toEqual([
      expect.objectContaining({
        number: 1,
        settings: SEED_SETTINGS,
        message: "Adopted from lab default/ossensor",
      }),
    ]);

    const after = daemonSet("default", "ossensor")!;
    expect(JSON.stringify(after.spec.template)).toBe(template);
    expect(after.metadata.generation).toBe(1);
    expect(after.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("tapfleet");
    expect(podUids("name=ossensor")).toEqual(pods);

    const audit = (await rest(admin, "GET", "/audit?limit=5&action=sensorInstall.adopt")).json as unknown as {
      items: Json[];
    };
    expect(audit.items.map((event) => event.outcome)).toEqual(["success", "failure", "failure"]);
    expect(audit.items[0]).toMatchObject({
      action: "sensorInstall.adopt",
      target: "adopt",
      detail: expect.objectContaining({ namespace: "default", name: "ossensor", profileName: "lab-sensors" }),
    });

    const status = await rest(viewer, "GET", "/clusters/adopt/sensor");
    expect(status.json).toMatchObject({
      installed: true,
      origin: "adopted",
      profile: { id: adopted.json.profile!.id, name: "lab-sensors", revision: 1 },
      drift: [],
      objects: [{ kind: "DaemonSet", name: "ossensor", state: "present" }],
    });
  });

  it("is not adopted twice, and an install over it is refused", async () => {
    const again = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      namespace: "default",
      name: "ossensor",
      profileName: "second",
    });
    expect(again.status).toBe(409);
    expect(again.json.error?.message).toContain("Tapfleet already manages this DaemonSet (adopted)");
    const install = await rest(admin, "POST", "/clusters/adopt/sensor", {
      settings: { collectorHost: "collector.example.com" },
      image: "tapfleet/agent:1.0.0",
      namespace: "default",
    });
    expect(install.status).toBe(409);
    expect(install.json.error?.message).toContain("release or uninstall it before installing");
    expect((await rest(admin, "GET", "/profiles")).json.items!.map((p) => p.name)).toEqual(["lab-sensors"]);
  });

  it("is released: Tapfleet forgets it and the DaemonSet and its pods stay, unmarked", async () => {
    expect((await rest(viewer, "POST", "/clusters/adopt/sensor/release", {})).status).toBe(403);
    const released = await rest(admin, "POST", "/clusters/adopt/sensor/release", {});
    expect(released.status, JSON.stringify(released.json)).toBe(200);
    expect(released.json.released).toEqual([{ kind: "DaemonSet", name: "ossensor", namespace: "default" }]);
    const after = daemonSet("default", "ossensor")!;
    expect(after.metadata.labels?.["app.kubernetes.io/managed-by"]).toBeUndefined();
    expect(after.metadata.annotations?.["tapfleet.io/config-hash"]).toBeUndefined();
    expect(podUids("name=ossensor")).toEqual(pods);
    expect((await rest(viewer, "GET", "/clusters/adopt/sensor")).json.installed).toBe(false);
  });

  it("is refused, changing nothing, when the profile named after the DaemonSet exists", async () => {
    const created = await rest(admin, "POST", "/profiles", {
      name: "ossensor",
      settings: { collectorHost: "elsewhere.example" },
      message: "someone else's",
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const refused = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      namespace: "default",
      name: "ossensor",
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error?.message).toMatch(/^profileName: a profile named "ossensor" already exists/);
    expect(
      daemonSet("default", "ossensor")!.metadata.labels?.["app.kubernetes.io/managed-by"],
    ).toBeUndefined();
    expect((await rest(viewer, "GET", "/clusters/adopt/sensor")).json.installed).toBe(false);
  });

  it("adopts into an existing profile as its next revision, judges a kubectl change against it, and uninstall removes the DaemonSet only", async () => {
    const profiles = await rest(admin, "GET", "/profiles");
    const id = (profiles.json.items as unknown as Array<{ id: string; name: string }>).find(
      (profile) => profile.name === "lab-sensors",
    )!.id;
    const adopted = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      namespace: "default",
      name: "ossensor",
      profileId: id,
      message: "Back under management",
    });
    expect(adopted.status, JSON.stringify(adopted.json)).toBe(200);
    expect(adopted.json.profile).toMatchObject({ id, revision: 2 });
    // What adoption recorded is what a change outside Tapfleet is judged against.
    await kubectl("set", "env", "daemonset/ossensor", "OSSENSOR_DEBUG=4");
    const drifted = await rest(viewer, "GET", "/clusters/adopt/sensor");
    expect(drifted.json.drift).toEqual(['OSSENSOR_DEBUG: Tapfleet applied "2", the cluster has "4"']);
    const removed = await rest(admin, "DELETE", "/clusters/adopt/sensor");
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(removed.json.removed).toEqual([{ kind: "DaemonSet", name: "ossensor", namespace: "default" }]);
    expect(daemonSet("default", "ossensor")).toBeUndefined();
    expect(sim.store.get("namespaces", undefined, "default")).toBeDefined();
  });
});

describe("a DaemonSet the import cannot represent faithfully", () => {
  it("is previewed with the import's error naming the variable", async () => {
    const file = path.join(directory, "bad-debug.yaml");
    await writeFile(
      file,
      `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: sensor-bad-debug, namespace: default }
spec:
  selector: { matchLabels: { name: sensor-bad-debug } }
  template:
    metadata: { labels: { name: sensor-bad-debug } }
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example/agent:1
          env:
            - { name: VSENSOR_HOSTNAME, value: "collector.example" }
            - { name: VSENSOR_HMAC_KEY, valueFrom: { secretKeyRef: { name: sensor-key, key: hmac } } }
            - { name: OSSENSOR_DEBUG, value: "9" }
`,
    );
    await kubectl("apply", "-f", file);
    const preview = await rest(
      viewer,
      "GET",
      "/clusters/adopt/sensor/adopt-preview?namespace=default&name=sensor-bad-debug",
    );
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json.adoptable).toBe(false);
    const problems = preview.json.problems!.join("\n");
    expect(problems).toContain("OSSENSOR_DEBUG");
    expect(problems).toContain('VSENSOR_HMAC_KEY: comes from Secret "sensor-key"');
    expect(preview.json.settings).toBeNull();
  });

  it("is previewed with the reason and refused, changing nothing", async () => {
    const file = path.join(directory, "envfrom.yaml");
    await writeFile(
      file,
      `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: sensor-envfrom, namespace: default }
spec:
  selector: { matchLabels: { name: sensor-envfrom } }
  template:
    metadata: { labels: { name: sensor-envfrom } }
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example/agent:1
          envFrom: [{ configMapRef: { name: sensor-env } }]
          env:
            - { name: VSENSOR_HOSTNAME, value: "collector.example" }
            - { name: VSENSOR_HMAC_KEY, value: "0123456789abcdef0123" }
            - { name: SIDECAR_MODE, value: "on" }
`,
    );
    await kubectl("apply", "-f", file);
    const preview = await rest(
      viewer,
      "GET",
      "/clusters/adopt/sensor/adopt-preview?namespace=default&name=sensor-envfrom",
    );
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json.adoptable).toBe(false);
    expect(preview.json.problems!.join("\n")).toContain("envFrom, which the import cannot read");
    expect(preview.json.unknownVariables).toEqual(["SIDECAR_MODE"]);
    expect(preview.json.warnings!.join("\n")).toContain("SIDECAR_MODE: is not a sensor setting");

    const before = (await rest(admin, "GET", "/profiles")).json.items!.length;
    const refused = await rest(admin, "POST", "/clusters/adopt/sensor/adopt", {
      namespace: "default",
      name: "sensor-envfrom",
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error?.message).toContain(
      "cannot be adopted: container agent takes variables from envFrom",
    );
    expect((await rest(admin, "GET", "/profiles")).json.items!.length).toBe(before);
    expect(
      daemonSet("default", "sensor-envfrom")!.metadata.labels?.["app.kubernetes.io/managed-by"],
    ).toBeUndefined();
    expect((await rest(viewer, "GET", "/clusters/adopt/sensor")).json.installed).toBe(false);
  });
});
