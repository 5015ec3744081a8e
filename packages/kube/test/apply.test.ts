// Applying the rendered sensor objects through the API, and what the real
// kubectl makes of them afterwards: the same YAML applied with `kubectl apply
// -f` changes nothing, because Tapfleet records kubectl's last-applied
// annotation exactly as kubectl would.

import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { renderSensorManifests, toYaml } from "@tapfleet/sensor/manifests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApplyFailure,
  applyObjects,
  deleteObject,
  encodeLikeKubectl,
  LAST_APPLIED_ANNOTATION,
  loadKubeConfig,
  readObject,
} from "../src/index.ts";

const run = promisify(execFile);

let sim: RunningSimCluster;
let directory: string;

beforeAll(async () => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake" });
  directory = await mkdtemp(path.join(tmpdir(), "tapfleet-apply-"));
});
afterAll(async () => {
  await sim?.stop();
});

function render(namespace: string) {
  return renderSensorManifests({
    settings: {
      collectorHost: "collector.example.com",
      collectorPort: 8443,
      hmacKey: "k".repeat(32),
      clusterId: "apply-test",
    },
    image: "tapfleet/agent:1.0.0",
    namespace,
    captureMode: "capabilities",
    networkPolicy: { enabled: true },
  });
}

async function kubectl(kubeconfigFile: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("kubectl", ["--kubeconfig", kubeconfigFile, ...args]);
  return stdout;
}

describe("encodeLikeKubectl", () => {
  it.each([
    [{ b: 1, a: { d: [2, { z: 1, y: 0 }], c: "x" } }, '{"a":{"c":"x","d":[2,{"y":0,"z":1}]},"b":1}\n'],
    [{ html: "<a&b>" }, '{"html":"\\u003ca\\u0026b\\u003e"}\n'],
    [{ skipped: undefined, kept: null }, '{"kept":null}\n'],
  ])("writes %j as Go's encoder does", (value, expected) => {
    expect(encodeLikeKubectl(value)).toBe(expected);
  });
});

describe("applyObjects", () => {
  it("creates every object with kubectl's annotation; kubectl apply of the same YAML then reports each unchanged", async () => {
    const rendered = render("sensor-a");
    const applied = await applyObjects({
      kubeConfig: loadKubeConfig(sim.kubeconfig()),
      objects: rendered.list,
    });
    expect(applied.map((item) => `${item.kind}/${item.name}`)).toEqual(
      rendered.list.map((object) => `${object.kind}/${object.metadata.name}`),
    );
    expect(applied.every((item) => item.created && item.uid.length > 0)).toBe(true);
    const daemonSet = sim.store.get("daemonsets.apps", "sensor-a", "tapfleet-sensor");
    expect(daemonSet?.metadata.annotations?.[LAST_APPLIED_ANNOTATION]).toContain('"kind":"DaemonSet"');

    const file = path.join(directory, "sensor-a.yaml");
    await writeFile(file, toYaml(rendered.list));
    const kubeconfigFile = path.join(directory, "kubeconfig");
    await writeFile(kubeconfigFile, sim.kubeconfig());
    const output = await kubectl(kubeconfigFile, "apply", "-f", file);
    const lines = output.trim().split("\n");
    expect(lines).toHaveLength(rendered.list.length);
    for (const line of lines) expect(line).toMatch(/ unchanged$/);

    // Applying again through Tapfleet updates in place: same uids, nothing created.
    const again = await applyObjects({
      kubeConfig: loadKubeConfig(sim.kubeconfig()),
      objects: rendered.list,
    });
    expect(again.map((item) => item.uid)).toEqual(applied.map((item) => item.uid));
    expect(again.some((item) => item.created)).toBe(false);
  });

  it("removes what it created when the cluster refuses an object midway, and says so", async () => {
    sim.addToken({
      token: "no-daemonsets",
      user: "system:serviceaccount:tapfleet:installer",
      allow: [
        {
          verbs: ["get", "list", "create", "patch", "delete"],
          resources: [
            "namespaces",
            "serviceaccounts",
            "secrets",
            "configmaps",
            "clusterroles.rbac.authorization.k8s.io",
            "clusterrolebindings.rbac.authorization.k8s.io",
            "networkpolicies.networking.k8s.io",
          ],
        },
        { verbs: ["get"], resources: ["daemonsets.apps"] },
      ],
    });
    const rendered = render("sensor-b");
    const failure = await applyObjects({
      kubeConfig: loadKubeConfig(sim.kubeconfig({ token: "no-daemonsets" })),
      objects: rendered.list,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplyFailure);
    const refused = failure as ApplyFailure;
    expect(refused.refusal.status).toBe(403);
    expect(refused.message).toContain('cannot patch resource "daemonsets"');
    expect(refused.left).toEqual([]);
    expect(refused.rolledBack.map((item) => item.kind)).toEqual([
      "NetworkPolicy",
      "Secret",
      "ClusterRoleBinding",
      "ClusterRole",
      "ServiceAccount",
      "Namespace",
    ]);
    for (const object of rendered.list) {
      const found = await readObject({
        kubeConfig: loadKubeConfig(sim.kubeconfig()),
        object: { ...object, name: object.metadata.name, namespace: object.metadata.namespace },
      });
      // The namespace may still be terminating; nothing else may remain.
      if (object.kind !== "Namespace") expect(found, `${object.kind} ${object.metadata.name}`).toBeNull();
    }
  });

  it("deletes only the object with the recorded uid", async () => {
    const kubeConfig = loadKubeConfig(sim.kubeconfig());
    sim.store.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "someone-elses", namespace: "default" },
    });
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "someone-elses", namespace: "default" };
    expect(await deleteObject({ kubeConfig, object: { ...ref, uid: "not-this-one" } })).toBe("replaced");
    expect(await readObject({ kubeConfig, object: ref })).not.toBeNull();
    expect(await deleteObject({ kubeConfig, object: { ...ref, uid: "x" }, throwOnRefusal: true })).toBe(
      "replaced",
    );
  });
});
