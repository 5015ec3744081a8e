// One env variable of a sensor DaemonSet changed with a strategic merge patch
// against the simulator through the real client, and the rollout followed by a watch.
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  daemonSetRolloutProgress,
  findCaptureContainer,
  listSensorDaemonSets,
  loadKubeConfig,
  readSensorDaemonSet,
  readTemplateEnv,
  setDaemonSetEnv,
  watchDaemonSet,
  type KubeDaemonSet,
} from "../src/index.ts";

let sim: RunningSimCluster;
let kubeConfig: ReturnType<typeof loadKubeConfig>;

beforeAll(async () => {
  sim = await startSimCluster({ nodes: 2, kubelet: "fake" });
  kubeConfig = loadKubeConfig(sim.kubeconfig());
  sim.store.create(
    "daemonsets.apps",
    daemonSetFixture({
      name: "sensor",
      namespace: "default",
      containerName: "ossensor",
      env: [
        { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
        { name: "BPF", value: "not port 22" },
      ],
    }),
  );
  // A DaemonSet that is not a sensor's.
  sim.store.create("daemonsets.apps", daemonSetFixture({ name: "not-a-sensor", namespace: "default" }));
});
afterAll(async () => {
  await sim?.stop();
});

const templateEnv = () => {
  const raw = sim.store.get("daemonsets.apps", "default", "sensor") as unknown as {
    spec: {
      template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } };
    };
  };
  return raw.spec.template.spec.containers.find((c) => c.name === "ossensor")?.env ?? [];
};

describe("setDaemonSetEnv", () => {
  it("lists only sensor DaemonSets and finds the capture container", async () => {
    const found = await listSensorDaemonSets({ kubeConfig });
    expect(found.map((d) => `${d.namespace}/${d.name}`)).toEqual(["default/sensor"]);
    expect(findCaptureContainer(found[0]!)?.name).toBe("ossensor");
    expect(readTemplateEnv(found[0]!, "OSSENSOR_DEBUG")).toBeNull();
    expect(await readSensorDaemonSet({ kubeConfig, namespace: "default", name: "missing" })).toBeNull();
    await expect(
      readSensorDaemonSet({ kubeConfig, namespace: "default", name: "not-a-sensor" }),
    ).rejects.toThrow("is not a sensor's");
  });

  it("sets, changes and removes one variable; the others stay; the watch sees the rollout finish", async () => {
    const seen: (KubeDaemonSet | null)[] = [];
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let patchedGeneration = Number.POSITIVE_INFINITY;
    const watch = watchDaemonSet({
      kubeConfig,
      namespace: "default",
      name: "sensor",
      onChange: (daemonSet) => {
        seen.push(daemonSet);
        if (
          daemonSet &&
          daemonSet.generation >= patchedGeneration &&
          daemonSetRolloutProgress(daemonSet).complete &&
          readTemplateEnv(daemonSet, "OSSENSOR_DEBUG") === "4"
        )
          resolveDone();
      },
    });
    try {
      await watch.whenSynced();
      const patched = await setDaemonSetEnv({
        kubeConfig,
        namespace: "default",
        name: "sensor",
        container: "ossensor",
        variable: "OSSENSOR_DEBUG",
        value: "4",
      });
      patchedGeneration = patched.generation;
      expect(readTemplateEnv(patched, "OSSENSOR_DEBUG")).toBe("4");
      await done;
      expect(seen.some((d) => d !== null && !daemonSetRolloutProgress(d).complete)).toBe(true);
      const pods = sim.store
        .list("pods", { namespace: "default" })
        .items.filter((p) => p.metadata.name?.startsWith("sensor-") && !p.metadata.deletionTimestamp);
      expect(pods.length).toBe(2);
    } finally {
      await watch.stop();
    }
    expect(templateEnv()).toEqual([
      { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
      { name: "BPF", value: "not port 22" },
      { name: "OSSENSOR_DEBUG", value: "4" },
    ]);

    await setDaemonSetEnv({
      kubeConfig,
      namespace: "default",
      name: "sensor",
      container: "ossensor",
      variable: "OSSENSOR_DEBUG",
      value: null,
    });
    expect(templateEnv()).toEqual([
      { name: "VSENSOR_HOSTNAME", value: "collector.example.com" },
      { name: "BPF", value: "not port 22" },
    ]);
  });

  it("a stale resourceVersion is refused with 409", async () => {
    await expect(
      setDaemonSetEnv({
        kubeConfig,
        namespace: "default",
        name: "sensor",
        container: "ossensor",
        variable: "OSSENSOR_DEBUG",
        value: "1",
        resourceVersion: "1",
      }),
    ).rejects.toMatchObject({ status: 409 });
  });
});
