import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../types.ts";
import { buildPodStatus, notReadyNodePodStatus, type ContainerState } from "./pod-status.ts";

type Json = Record<string, unknown>;

const EARLIER = "2026-01-01T00:00:00Z";
const NOW = "2026-01-01T00:05:00Z";

function pod(conditions: Json[] = []): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { nodeName: "node-1", containers: [] },
    status: { phase: "Pending", conditions },
  };
}

const creating: ContainerState = {
  name: "a",
  image: "x:1",
  phase: "creating",
  ready: false,
  restartCount: 0,
};
const running: ContainerState = {
  name: "a",
  image: "x:1",
  phase: "running",
  ready: true,
  restartCount: 0,
  startedAt: EARLIER,
  containerId: "containerd://1",
};
const crashLooping: ContainerState = {
  name: "a",
  image: "x:1",
  phase: "backoff",
  ready: false,
  restartCount: 2,
  waitingMessage: "back-off 10s restarting failed container=a",
  lastTerminated: {
    exitCode: 1,
    reason: "Error",
    startedAt: EARLIER,
    finishedAt: EARLIER,
    containerID: "containerd://1",
  },
};

const cases: Array<{
  name: string;
  containers: ContainerState[];
  sandboxReady?: boolean;
  nodeReady?: boolean;
  expected: { phase: string; conditions: Record<string, string>; state: Json; podIP: boolean };
}> = [
  {
    name: "waiting for the sandbox: Pending, ContainerCreating, no pod IP",
    containers: [creating],
    sandboxReady: false,
    expected: {
      phase: "Pending",
      conditions: { PodReadyToStartContainers: "False", Ready: "False", ContainersReady: "False" },
      state: { waiting: { reason: "ContainerCreating" } },
      podIP: false,
    },
  },
  {
    name: "running and ready",
    containers: [running],
    expected: {
      phase: "Running",
      conditions: { PodReadyToStartContainers: "True", Ready: "True", ContainersReady: "True" },
      state: { running: { startedAt: EARLIER } },
      podIP: true,
    },
  },
  {
    name: "crash-looping: still Running, CrashLoopBackOff with its message",
    containers: [crashLooping],
    expected: {
      phase: "Running",
      conditions: { Ready: "False", ContainersReady: "False" },
      state: { waiting: { reason: "CrashLoopBackOff", message: crashLooping.waitingMessage } },
      podIP: true,
    },
  },
  {
    name: "ready containers on a NotReady node: the pod is not Ready",
    containers: [running],
    nodeReady: false,
    expected: {
      phase: "Running",
      conditions: { Ready: "False", ContainersReady: "True" },
      state: { running: { startedAt: EARLIER } },
      podIP: true,
    },
  },
];

describe("kubelet: pod status", () => {
  it.each(cases)("$name", ({ containers, sandboxReady = true, nodeReady = true, expected }) => {
    const status = buildPodStatus({
      pod: pod(),
      containers,
      sandboxReady,
      startTime: EARLIER,
      podIP: "10.244.0.2",
      hostIP: "192.168.0.1",
      nodeReady,
      now: NOW,
    });
    expect(status.phase).toBe(expected.phase);
    const conditions = Object.fromEntries(
      (status.conditions as Json[]).map((c) => [c.type as string, c.status as string]),
    );
    expect(conditions).toMatchObject({ Initialized: "True", PodScheduled: "True", ...expected.conditions });
    expect((status.containerStatuses as Json[])[0]?.state).toEqual(expected.state);
    expect(status.podIP).toBe(expected.podIP ? "10.244.0.2" : undefined);
    expect(status.hostIP).toBe("192.168.0.1");
  });

  it("keeps a condition's lastTransitionTime while its status holds, and moves it when it flips", () => {
    const before = pod([
      { type: "Ready", status: "False", lastTransitionTime: EARLIER },
      { type: "PodScheduled", status: "True", lastTransitionTime: EARLIER },
    ]);
    const status = buildPodStatus({
      pod: before,
      containers: [running],
      sandboxReady: true,
      startTime: EARLIER,
      podIP: "10.244.0.2",
      hostIP: "192.168.0.1",
      nodeReady: true,
      now: NOW,
    });
    const times = Object.fromEntries(
      (status.conditions as Json[]).map((c) => [c.type as string, c.lastTransitionTime as string]),
    );
    expect(times).toMatchObject({ Ready: NOW, PodScheduled: EARLIER });
  });

  it("a NotReady node turns only Ready to False, and leaves a pod that is not Ready alone", () => {
    const ready = pod([
      { type: "Ready", status: "True", lastTransitionTime: EARLIER },
      { type: "ContainersReady", status: "True", lastTransitionTime: EARLIER },
    ]);
    expect(notReadyNodePodStatus(ready, NOW)?.conditions).toEqual([
      { type: "Ready", status: "False", lastTransitionTime: NOW },
      { type: "ContainersReady", status: "True", lastTransitionTime: EARLIER },
    ]);
    expect(notReadyNodePodStatus(pod([{ type: "Ready", status: "False" }]), NOW)).toBeUndefined();
  });
});
