// A bad update caught and rolled back with the real kubectl: the new pods
// crash-loop (a required variable is missing), `rollout status` does not
// succeed, `rollout undo` brings the fleet back.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type RunningSimCluster } from "../src/index.ts";
import { untilStore, withKubectl, type KubectlResult } from "./helpers.ts";

let cluster: RunningSimCluster;
let kubectl: (args: string[], stdin?: string) => Promise<KubectlResult>;
let cleanup: () => Promise<void>;

const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  # As in production: a pod must stay Ready for a while to count as available, so a
  # container that crashes 50 ms after each start never does.
  minReadySeconds: 1
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - name: agent
        image: tapfleet/agent:1
        env: [{name: COLLECTOR, value: "10.0.0.1"}]
`;

type Status = { numberAvailable?: number; updatedNumberScheduled?: number; observedGeneration?: number };
const status = (): Status => cluster.store.get("daemonsets.apps", "default", "agent")?.status ?? {};

beforeAll(async () => {
  cluster = await startSimCluster({
    nodes: 2,
    crashAfterMs: 50,
    backOffBaseMs: 100,
    crashWhen: ({ env }) => (env.COLLECTOR ? false : { exitCode: 1, message: "COLLECTOR is required" }),
  });
  ({ kubectl, cleanup } = await withKubectl(cluster));
});
afterAll(async () => {
  await cluster?.stop();
  await cleanup?.();
});

describe("rollback of a crash-looping update", () => {
  it("rollout status fails on the bad revision, rollout undo restores the fleet", async () => {
    expect((await kubectl(["apply", "-f", "-"], manifest)).code).toBe(0);
    await untilStore(cluster, () => status().numberAvailable === 2);

    expect((await kubectl(["set", "env", "ds/agent", "COLLECTOR-"])).stdout).toBe(
      "daemonset.apps/agent env updated\n",
    );
    // The replaced pod crash-loops; with maxUnavailable 1 the rollout stalls there.
    await untilStore(cluster, () =>
      cluster.store
        .list("pods", { namespace: "default" })
        .items.some((p) => JSON.stringify(p.status ?? {}).includes("CrashLoopBackOff")),
    );
    const pods = await kubectl(["get", "pods"]);
    // Between restarts the container is briefly Running, so only the restart count is certain.
    expect(pods.stdout).toMatch(/agent-\w{5}\s+[01]\/1\s+(CrashLoopBackOff|Error|Running)\s+[1-9]\d*/);
    const stalled = await kubectl(["rollout", "status", "ds/agent", "--timeout=2s"]);
    expect(stalled.code).not.toBe(0);
    expect(stalled.stdout).toContain('Waiting for daemon set "agent" rollout to finish');

    expect((await kubectl(["rollout", "undo", "ds/agent"])).stdout).toBe(
      "daemonset.apps/agent rolled back\n",
    );
    const done = await kubectl(["rollout", "status", "ds/agent", "--timeout=60s"]);
    expect(done.stdout.trim().split("\n").at(-1)).toBe('daemon set "agent" successfully rolled out');
    expect(status()).toMatchObject({ numberAvailable: 2, updatedNumberScheduled: 2 });
    const env = await kubectl([
      "get",
      "ds",
      "agent",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].env}",
    ]);
    expect(JSON.parse(env.stdout)).toEqual([{ name: "COLLECTOR", value: "10.0.0.1" }]);
  });
});
