// Tolerations and minReadySeconds given at install, over real HTTP against a
// simulated cluster: each toleration is checked at its field, the DaemonSet
// carries them, and they stay through a re-apply after a key rotation and in
// the export (the demo relies on it to keep its tainted node excluded).
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;

const CONTROL_PLANE = {
  key: "node-role.kubernetes.io/control-plane",
  operator: "Exists",
  effect: "NoSchedule",
};
const INSTALL = {
  settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
  image: "tapfleet/agent:1.0.0",
};

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
  admin = (await t.userWithToken("admin")).token;
  expect((await rest("POST", "/clusters", { id: "tolerant" })).status).toBe(200);
  const saved = await rest("PUT", "/clusters/tolerant/connection", {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
}, 60_000);
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

const rest = (method: string, route: string, body?: unknown) =>
  callRest(t.url, { method, path: route, body, token: admin });

function daemonSetSpec() {
  const daemonSet = sim.store.get("daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor") as unknown as
    { spec: { minReadySeconds?: number; template: { spec: { tolerations?: unknown[] } } } } | undefined;
  return daemonSet?.spec;
}

describe("sensor install: tolerations and minReadySeconds", () => {
  it.each([
    [[{ operator: "Equal", value: "x" }], "is required with operator Equal"],
    [[{ key: "a", operator: "Exists", value: "x" }], "must be absent with operator Exists"],
    [[{ key: "a", operator: "Maybe" }], "must be Exists or Equal"],
    [
      [{ key: "a", operator: "Exists", effect: "Sometimes" }],
      "must be NoSchedule, PreferNoSchedule or NoExecute",
    ],
  ])("refuses the toleration %j at its field, installing nothing", async (tolerations, message) => {
    const refused = await rest("POST", "/clusters/tolerant/sensor", { ...INSTALL, tolerations });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain("tolerations");
    expect(JSON.stringify(refused.json)).toContain(message);
    expect(daemonSetSpec()).toBeUndefined();
  });

  it("refuses a negative minReadySeconds at its field", async () => {
    const refused = await rest("POST", "/clusters/tolerant/sensor", { ...INSTALL, minReadySeconds: -1 });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain("minReadySeconds");
    expect(daemonSetSpec()).toBeUndefined();
  });

  it("renders them into the DaemonSet, and keeps them through a key rotation and in the export", async () => {
    const installed = await rest("POST", "/clusters/tolerant/sensor", {
      ...INSTALL,
      tolerations: [CONTROL_PLANE],
      minReadySeconds: 0,
    });
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    expect(daemonSetSpec()?.template.spec.tolerations).toEqual([CONTROL_PLANE]);
    expect(daemonSetSpec()?.minReadySeconds).toBe(0);

    const rotated = await rest("POST", "/clusters/tolerant/rotate-key", { graceHours: 1 });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    expect((await rest("GET", "/clusters/tolerant/sensor")).json).toMatchObject({ revision: 2, drift: [] });
    expect(daemonSetSpec()?.template.spec.tolerations).toEqual([CONTROL_PLANE]);
    expect(daemonSetSpec()?.minReadySeconds).toBe(0);

    const exported = await rest("GET", "/clusters/tolerant/sensor/manifests");
    expect(exported.status).toBe(200);
    const yaml = String(exported.json.yaml);
    expect(yaml).toContain("key: node-role.kubernetes.io/control-plane");
    expect(yaml).toContain("minReadySeconds: 0");
  }, 60_000);
});
