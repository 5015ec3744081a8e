// The DaemonSet the sensor contract renders, run by kube-sim's process kubelet
// with the real agent in every pod and its readiness probe run as the kubelet
// runs it: a template under which the agent cannot capture never turns Ready,
// so Kubernetes' own rolling update stops at one node, the others still
// capturing and reporting.

import { fileURLToPath } from "node:url";
import { createSimCluster, type KubeObject, type SimCluster } from "@tapfleet/kube-sim";
import { renderSensorManifests, type EnvVar } from "@tapfleet/sensor/manifests";
import type { SensorSettings } from "@tapfleet/sensor/settings";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { AGENT_BUNDLE, buildAgentBundle, TEST_CLUSTER, TEST_KEY } from "./support/agent-process.ts";
import {
  COLLECTOR_SERVER_NAME,
  createTestCertificate,
  TestCollector,
  type TestCertificate,
} from "./support/collector.ts";
import { scratchDir } from "./support/run.ts";

type Json = Record<string, unknown>;

/** A rendered object as the simulator's store takes it (a copy). */
const asKubeObject = (object: object): KubeObject => structuredClone(object) as KubeObject;

const REPO_BIN = fileURLToPath(new URL("../../../node_modules/.bin", import.meta.url));
const IMAGE = "ghcr.io/tapfleet/agent:test";
const NODES = 3;

let certificate: TestCertificate;
let collector: TestCollector;
let cluster: SimCluster | undefined;

beforeAll(async () => {
  await buildAgentBundle();
  certificate = createTestCertificate();
  collector = new TestCollector({ host: "127.0.0.1", keyId: TEST_CLUSTER, key: TEST_KEY, certificate });
  await collector.start();
});

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

afterAll(async () => {
  await collector?.stop();
});

/**
 * The rendered objects for these settings. One change for a single host: every
 * simulated node's pod gets a config directory of its own (on real nodes,
 * each pod has its own emptyDir), named after the pod, set after the
 * downward-API variable it refers to.
 */
function rendered(settings: Partial<SensorSettings>, configRoot: string) {
  const manifests = renderSensorManifests({
    settings: {
      collectorHost: "127.0.0.1",
      collectorPort: collector.port,
      hmacKey: TEST_KEY,
      clusterId: TEST_CLUSTER,
      tlsCaFile: certificate.caFile,
      tlsServerName: COLLECTOR_SERVER_NAME,
      antigenaEnabled: false,
      networkDevice: "lo",
      ...settings,
    },
    image: IMAGE,
    minReadySeconds: 2,
  });
  const daemonSet = structuredClone(manifests.objects.daemonSet);
  const capture = daemonSet.spec.template.spec.containers[0]!;
  capture.env = [
    ...(capture.env ?? []).filter((entry: EnvVar) => entry.name !== "OSSENSOR_CONFIG_PATH"),
    { name: "OSSENSOR_CONFIG_PATH", value: `${configRoot}/$(TAPFLEET_POD_NAME)/ossensor.cfg` },
  ];
  return { manifests, daemonSet };
}

const podsOf = (c: SimCluster) => c.store.list("pods", { namespace: "tapfleet-sensor" }).items;
const envOf = (pod: { spec?: Json }, name: string): unknown =>
  (((pod.spec?.containers as Json[] | undefined)?.[0]?.env ?? []) as Json[]).find((e) => e.name === name)
    ?.value;
const isReady = (pod: { status?: Json }): boolean =>
  ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === "Ready" && c.status === "True");

describe("the rendered DaemonSet on kube-sim's process kubelet", () => {
  it("stops a rolling update at one node when the new template's agent cannot capture", async () => {
    const configRoot = scratchDir("agent-rollout");
    cluster = createSimCluster({
      nodes: NODES,
      kubelet: "process",
      imageTable: { "ghcr.io/tapfleet/agent": { command: process.execPath, args: [AGENT_BUNDLE] } },
      // `tapfleet-agent probe`, as the image has it on PATH.
      baseEnv: { PATH: `${REPO_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}` },
    });
    const c = cluster;
    const good = rendered({}, configRoot);
    for (const object of [good.manifests.objects.namespace!, good.manifests.objects.secret!])
      c.store.create(object.kind === "Namespace" ? "namespaces" : "secrets", asKubeObject(object));
    c.store.create("daemonsets", asKubeObject(good.daemonSet));
    await waitFor(
      () =>
        (c.store.get("daemonsets", "tapfleet-sensor", "tapfleet-sensor")?.status?.numberAvailable === NODES &&
          podsOf(c).every(isReady)) ||
        undefined,
      { what: "every node's agent Ready and available", timeoutMs: 60_000 },
    );

    // The new template: an interface no node has, waited for (NETWORK_DEVICE_ANY=1), so the agent runs but captures nothing.
    const broken = rendered({ networkDevice: "nosuch0", captureNewDevices: true }, configRoot);
    const current = c.store.get("daemonsets", "tapfleet-sensor", "tapfleet-sensor")!;
    c.store.update("daemonsets", {
      ...structuredClone(current),
      spec: structuredClone(broken.daemonSet.spec),
    });

    const newPod = (): string | undefined =>
      podsOf(c).find((pod) => envOf(pod, "OSSENSOR_NETWORK_DEVICE") === "nosuch0")?.metadata.name;
    const unhealthy = (): Array<{ message: string; count: number }> =>
      c.store
        .list("events", { namespace: "tapfleet-sensor" })
        .items.filter(
          (event) => event.reason === "Unhealthy" && (event.involvedObject as Json).name === newPod(),
        )
        .map((event) => ({ message: String(event.message), count: Number(event.count) }));
    const capturing = "Readiness probe failed: not ready: no interface open: nosuch0 not present\n";
    // The same failure twice (one event, counted), a probe period (5 s) apart: the new pod has run longer than minReadySeconds (2 s).
    await waitFor(() => unhealthy().find((event) => event.message === capturing && event.count >= 2), {
      what: () => `two failed probes of the new pod saying why; seen ${JSON.stringify(unhealthy())}`,
      timeoutMs: 60_000,
    });
    const pods = podsOf(c);
    const updated = pods.filter((pod) => envOf(pod, "OSSENSOR_NETWORK_DEVICE") === "nosuch0");
    expect(updated).toHaveLength(1);
    expect(isReady(updated[0]!)).toBe(false);
    const untouched = pods.filter((pod) => envOf(pod, "OSSENSOR_NETWORK_DEVICE") === "lo");
    expect(untouched).toHaveLength(NODES - 1);
    expect(untouched.every(isReady)).toBe(true);
    expect(c.store.get("daemonsets", "tapfleet-sensor", "tapfleet-sensor")?.status).toMatchObject({
      updatedNumberScheduled: 1,
      numberAvailable: NODES - 1,
    });
  }, 150_000);
});
