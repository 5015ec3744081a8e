// Builders for the inventory tests: a ready node, a sensor DaemonSet, its pod.

import type { InventoryContainerStatus, InventoryDaemonSet, InventoryNode, InventoryPod } from "./types.ts";

export const T0 = "2026-11-22T12:00:00.000Z";
/** T0 plus `seconds`, as an ISO timestamp. */
export const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();

export function makeNode(overrides: Partial<InventoryNode> = {}): InventoryNode {
  return {
    name: "node-a",
    labels: { "kubernetes.io/hostname": "node-a" },
    taints: [],
    unschedulable: false,
    ready: { status: "True", reason: "KubeletReady", lastTransitionTime: at(-3600) },
    createdAt: at(-7200),
    ...overrides,
  };
}

export function makeDaemonSet(overrides: Partial<InventoryDaemonSet> = {}): InventoryDaemonSet {
  return {
    namespace: "tapfleet",
    name: "sensor",
    nodeSelector: {},
    requiredNodeAffinity: null,
    tolerations: [],
    hostNetwork: true,
    reportIntervalSeconds: 10,
    createdAt: at(-7200),
    ...overrides,
  };
}

export function runningContainer(
  overrides: Partial<InventoryContainerStatus> = {},
): InventoryContainerStatus {
  return {
    name: "agent",
    ready: true,
    restartCount: 0,
    state: { running: { startedAt: at(-600) } },
    lastState: {},
    ...overrides,
  };
}

/** A Running, Ready pod of the sensor DaemonSet on node-a, Ready since T0 - 600 s. */
export function makePod(overrides: Partial<InventoryPod> = {}): InventoryPod {
  return {
    namespace: "tapfleet",
    name: "sensor-abcde",
    daemonSet: "sensor",
    nodeName: "node-a",
    phase: "Running",
    createdAt: at(-660),
    scheduled: { status: "True", lastTransitionTime: at(-660) },
    ready: { status: "True", lastTransitionTime: at(-600) },
    containerStatuses: [runningContainer()],
    ...overrides,
  };
}
